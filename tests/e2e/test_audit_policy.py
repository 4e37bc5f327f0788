"""The audit policy of docs/audit.md, accepted by a real kube-apiserver and recording what it says.

A control plane of its own, started with `--audit-policy-file` (a policy the apiserver refuses
stops it from starting) and a log file: creating a Migration is recorded with its body, a
Secret with metadata only (its value never in the log), a status write with metadata, and a
read of a Migration not at all.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from ferry.api.kinds import GROUP, VERSION
from harness.controlplane import ControlPlane
from harness.kube import api_client, apply_crds, create_namespace, load_crds

REPO = Path(__file__).resolve().parents[2]
POLICY = REPO / "manifests" / "audit" / "ferry-audit-policy.yaml"
SECRET_VALUE = "pw-never-in-the-audit-log"


@pytest.fixture
def audited(tmp_path: Path) -> Iterator[tuple[ControlPlane, Path]]:
    log = tmp_path / "audit.log"
    plane = ControlPlane(extra_apiserver_args=[f"--audit-policy-file={POLICY}", f"--audit-log-path={log}"])
    plane.start()
    yield plane, log
    plane.cleanup()


def _entries(log: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in log.read_text().splitlines() if line.strip()]


def _find(entries: list[dict[str, Any]], resource: str, verb: str, name: str) -> list[dict[str, Any]]:
    return [e for e in entries if (e.get("objectRef") or {}).get("resource") == resource and e["verb"] == verb
            and (e.get("objectRef") or {}).get("name", name) == name]  # fmt: skip


def test_the_policy_is_accepted_and_records_changes_to_ferry_resources(
    audited: tuple[ControlPlane, Path],
) -> None:
    plane, log = audited
    api = api_client(plane.server, plane.ca_path, plane.admin_token)
    apply_crds(api, load_crds((REPO / "crds").glob("*.yaml")))
    namespace = create_namespace(api)
    client.CoreV1Api(api).create_namespaced_secret(
        namespace, {"metadata": {"name": "db-creds"}, "stringData": {"password": SECRET_VALUE}}
    )
    custom = client.CustomObjectsApi(api)
    custom.create_namespaced_custom_object(GROUP, VERSION, namespace, "migrations", {
        "apiVersion": f"{GROUP}/{VERSION}", "kind": "Migration", "metadata": {"name": "audited"},
        "spec": {"source": {"connectionRef": {"name": "src"}}, "target": {"connectionRef": {"name": "dst"}}},
    })  # fmt: skip
    custom.get_namespaced_custom_object(GROUP, VERSION, namespace, "migrations", "audited")
    custom.patch_namespaced_custom_object_status(
        GROUP, VERSION, namespace, "migrations", "audited", {"status": {"message": "forged"}}
    )

    entries = _entries(log)
    [created] = _find(entries, "migrations", "create", "audited")
    assert created["level"] == "RequestResponse" and created["stage"] == "ResponseComplete"
    assert created["user"]["username"] == "admin" and created["objectRef"]["namespace"] == namespace
    assert created["requestObject"]["spec"]["source"]["connectionRef"]["name"] == "src"
    [status] = [
        e for e in _find(entries, "migrations", "patch", "audited") if e["objectRef"].get("subresource")
    ]
    assert status["level"] == "Metadata" and "requestObject" not in status
    [secret] = _find(entries, "secrets", "create", "db-creds")
    assert secret["level"] == "Metadata" and "requestObject" not in secret
    assert SECRET_VALUE not in log.read_text()
    assert _find(entries, "migrations", "get", "audited") == []  # reads are not recorded
    api.close()
