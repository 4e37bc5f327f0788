"""`kubectl ferry access`: the apiserver's own answer to who can do what with Ferry in a namespace."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from ferry.cli import access
from harness.controlplane import ControlPlane


def _bind(kube_api: client.ApiClient, namespace: str, user: str, role: str) -> None:
    client.RbacAuthorizationV1Api(kube_api).create_namespaced_role_binding(namespace, {
        "metadata": {"name": f"{user}-{role}"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
        "subjects": [{"kind": "User", "name": user, "apiGroup": "rbac.authorization.k8s.io"}],
    })  # fmt: skip


def test_the_review_shows_each_role_and_who_else_can_write_status(
    kube_api: client.ApiClient, control_plane: ControlPlane, operator_kubeconfig: Path, namespace: str,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    for user, role in (("alice", "ferry-viewer"), ("bob", "ferry-editor"), ("carol", "ferry-approver")):
        _bind(kube_api, namespace, user, role)
    parser = argparse.ArgumentParser(prog="ferry")
    access.register(parser.add_subparsers(required=True))
    args = parser.parse_args(["access", "-n", namespace, "--kubeconfig", str(control_plane.kubeconfig_path),
                              "--output", "json"])  # fmt: skip
    assert args.func(args) == 0
    rows: dict[str, dict[str, Any]] = {
        r["subject"]: r for r in json.loads(capsys.readouterr().out)["subjects"]
    }

    def can(subject: str) -> set[str]:
        return {name for name, yes in rows[subject].items() if yes is True}

    assert can("User/alice") == {"read migrations"}
    assert can("User/bob") == {"read migrations", "change migrations"}
    assert can("User/carol") == {"read migrations", "approve plans"}
    assert "read credentials" in can("Group/system:masters") and "manage projects" in can(
        "Group/system:masters"
    )
    # Status is Ferry's report: the operator may write it; of the people above, nobody.
    assert "write status" in can("ServiceAccount/ferry-operator-e2e/ferry-operator")
    assert not any("write status" in can(f"User/{u}") for u in ("alice", "bob", "carol"))
