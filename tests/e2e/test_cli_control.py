"""`ferry approve|suspend|resume|status` against a real kube-apiserver (no operator needed).

Each test creates a Migration directly, writes the status the operator would have written,
runs the CLI with a kubeconfig, and reads back what changed in the object's spec (or, for
approve, the MigrationApproval it made and what the admission policy refused).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from ferry.cli import approve, control, status
from harness.controlplane import ControlPlane
from harness.kube import api_client

GROUP, VERSION, PLURAL = "ferry.dev", "v1alpha1", "migrations"
REPO = Path(__file__).resolve().parents[2]
PLAN_HASH = "3f2a9c0d1e2b4a5f" * 4  # 64 hex digits, as a plan hash is


def ferry(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run one CLI command in-process, as `ferry` would; returns (exit code, stdout, stderr)."""
    parser = argparse.ArgumentParser(prog="ferry")
    subparsers = parser.add_subparsers(required=True)
    control.register(subparsers)
    approve.register(subparsers)
    status.register(subparsers)
    args = parser.parse_args(list(argv))
    code = args.func(args)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def migration(kube_api: client.ApiClient, crds: list[str], namespace: str) -> str:
    body = {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "Migration",
        "metadata": {"name": "chinook"},
        "spec": {"source": {"connectionRef": {"name": "src"}}, "target": {"connectionRef": {"name": "dst"}}},
    }
    client.CustomObjectsApi(kube_api).create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, body)
    return "chinook"


def read(kube_api: client.ApiClient, namespace: str, name: str) -> dict[str, Any]:
    obj: dict[str, Any] = client.CustomObjectsApi(kube_api).get_namespaced_custom_object(
        GROUP, VERSION, namespace, PLURAL, name
    )
    return obj


def write_status(kube_api: client.ApiClient, namespace: str, name: str, status_: dict[str, Any]) -> None:
    client.CustomObjectsApi(kube_api).patch_namespaced_custom_object_status(
        GROUP, VERSION, namespace, PLURAL, name, {"status": status_}
    )


def kubeconfig_with_namespace(control_plane: ControlPlane, namespace: str, tmp_path: Path) -> str:
    config = yaml.safe_load(control_plane.kubeconfig_path.read_text())
    for context in config["contexts"]:
        context["context"]["namespace"] = namespace
    path = tmp_path / "kubeconfig"
    path.write_text(yaml.safe_dump(config))
    return str(path)


def _bind(kube_api: client.ApiClient, namespace: str, user: str, role: str) -> None:
    client.RbacAuthorizationV1Api(kube_api).create_namespaced_role_binding(
        namespace,
        {
            "metadata": {"name": f"{user}-{role}"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
            "subjects": [{"kind": "User", "name": user, "apiGroup": "rbac.authorization.k8s.io"}],
        },
    )


def _approvals(kube_api: client.ApiClient, namespace: str) -> list[dict[str, Any]]:
    listed = client.CustomObjectsApi(kube_api).list_namespaced_custom_object(
        GROUP, VERSION, namespace, "migrationapprovals"
    )
    return list(listed["items"])


def test_approve_records_a_verified_approval_in_the_users_own_name(
    kube_api: client.ApiClient,
    control_plane: ControlPlane,
    operator_kubeconfig: Path,  # the shipped roles and the verified-approvals policy, installed
    namespace: str,
    migration: str,
    capsys: Any,
) -> None:
    write_status(kube_api, namespace, migration, {"phase": "AwaitingApproval", "plan": {"hash": PLAN_HASH}})
    _bind(kube_api, namespace, "alice", "ferry-approver")
    _bind(kube_api, namespace, "bob", "ferry-editor")
    alice = str(control_plane.kubeconfig_for_token(control_plane.user_token("alice"), "alice"))
    bob = str(control_plane.kubeconfig_for_token(control_plane.user_token("bob"), "bob"))

    code, out, err = ferry(capsys, "approve", f"mig/{migration}", "-n", namespace, "--kubeconfig", alice,
                           "--comment", "reviewed the drop")  # fmt: skip
    assert code == 0, err
    assert f"plan {PLAN_HASH} approved by alice" in out
    [approval] = _approvals(kube_api, namespace)
    assert approval["spec"]["approver"] == "alice"
    assert approval["spec"]["planHash"] == PLAN_HASH and approval["spec"]["comment"] == "reviewed the drop"
    assert "system:authenticated" in approval["spec"]["approverGroups"]  # as the apiserver said
    assert "planHash" not in (read(kube_api, namespace, migration)["spec"].get("approval") or {})
    # Approving again is harmless and says so.
    code, out, _ = ferry(capsys, "approve", migration, "-n", namespace, "--kubeconfig", alice)
    assert code == 0 and "already approved by alice" in out
    # Editors do not approve.
    code, _, err = ferry(capsys, "approve", migration, "-n", namespace, "--kubeconfig", bob)
    assert code == 1 and "forbidden" in err
    assert len(_approvals(kube_api, namespace)) == 1


def test_nobody_approves_in_another_name_or_claims_a_group_they_lack(
    kube_api: client.ApiClient, control_plane: ControlPlane, operator_kubeconfig: Path, namespace: str,
    migration: str,
) -> None:  # fmt: skip
    _bind(kube_api, namespace, "alice", "ferry-approver")
    alice = api_client(control_plane.server, control_plane.ca_path, control_plane.user_token("alice"))

    def create(approver: str, groups: list[str]) -> None:
        body = {"apiVersion": f"{GROUP}/{VERSION}", "kind": "MigrationApproval",
                "metadata": {"generateName": "forged-"},
                "spec": {"migrationRef": {"name": migration}, "planHash": PLAN_HASH, "approver": approver,
                         "approverGroups": groups}}  # fmt: skip
        client.CustomObjectsApi(alice).create_namespaced_custom_object(
            GROUP, VERSION, namespace, "migrationapprovals", body
        )

    with pytest.raises(ApiException) as forged_name:
        create("bob", [])
    assert forged_name.value.status in (403, 422)
    assert "spec.approver must be your own user name, alice" in forged_name.value.body
    with pytest.raises(ApiException) as forged_group:
        create("alice", ["dba"])
    assert "spec.approverGroups may name only groups you belong to" in forged_group.value.body
    create("alice", ["system:authenticated"])
    alice.close()


def test_the_author_annotation_is_the_creator_and_never_changes(
    kube_api: client.ApiClient, control_plane: ControlPlane, operator_kubeconfig: Path, namespace: str
) -> None:
    _bind(kube_api, namespace, "bob", "ferry-editor")
    bob = client.CustomObjectsApi(
        api_client(control_plane.server, control_plane.ca_path, control_plane.user_token("bob"))
    )

    def body(author: str) -> dict[str, Any]:
        return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Migration",
                "metadata": {"name": f"by-{author}", "annotations": {"ferry.dev/author": author}},
                "spec": {"source": {"connectionRef": {"name": "src"}},
                         "target": {"connectionRef": {"name": "dst"}}}}  # fmt: skip

    with pytest.raises(ApiException) as forged:
        bob.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, body("alice"))
    assert "ferry.dev/author] must be your own user name, bob" in forged.value.body
    bob.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, body("bob"))
    with pytest.raises(ApiException) as changed:
        bob.patch_namespaced_custom_object(
            GROUP,
            VERSION,
            namespace,
            PLURAL,
            "by-bob",
            {"metadata": {"annotations": {"ferry.dev/author": "x"}}},
        )
    assert "cannot be changed" in changed.value.body
    bob.api_client.close()


def test_approve_refuses_when_there_is_no_plan(
    kube_api: client.ApiClient, control_plane: ControlPlane, namespace: str, migration: str, capsys: Any
) -> None:
    write_status(kube_api, namespace, migration, {"phase": "Planning"})
    code, _, err = ferry(
        capsys, "approve", migration, "-n", namespace, "--kubeconfig", str(control_plane.kubeconfig_path)
    )
    assert code == 2
    assert "no plan to approve yet" in err
    assert "planHash" not in (read(kube_api, namespace, migration)["spec"].get("approval") or {})


def test_approve_refuses_a_plan_the_user_did_not_review(
    kube_api: client.ApiClient, control_plane: ControlPlane, namespace: str, migration: str, capsys: Any
) -> None:
    write_status(kube_api, namespace, migration, {"phase": "AwaitingApproval", "plan": {"hash": PLAN_HASH}})
    code, _, err = ferry(
        capsys,
        "approve",
        f"migrations/{migration}",
        "--hash",
        "00aa11bb22cc",
        "-n",
        namespace,
        "--kubeconfig",
        str(control_plane.kubeconfig_path),
    )
    assert code == 2
    assert "plan changed" in err and PLAN_HASH in err
    assert "planHash" not in (read(kube_api, namespace, migration)["spec"].get("approval") or {})


def test_suspend_and_resume_in_the_kubeconfig_namespace(
    kube_api: client.ApiClient,
    control_plane: ControlPlane,
    namespace: str,
    migration: str,
    tmp_path: Path,
    capsys: Any,
) -> None:
    kubeconfig = kubeconfig_with_namespace(control_plane, namespace, tmp_path)
    code, out, _ = ferry(capsys, "suspend", f"migration/{migration}", "--kubeconfig", kubeconfig)
    assert code == 0 and "suspended" in out and namespace in out
    assert read(kube_api, namespace, migration)["spec"]["suspend"] is True
    code, out, _ = ferry(capsys, "resume", f"mig/{migration}", "--kubeconfig", kubeconfig)
    assert code == 0 and "resumed" in out
    assert read(kube_api, namespace, migration)["spec"]["suspend"] is False


def test_unknown_migration_is_reported_not_raised(
    control_plane: ControlPlane, crds: list[str], namespace: str, capsys: Any
) -> None:
    code, _, err = ferry(
        capsys, "suspend", "mig/nope", "-n", namespace, "--kubeconfig", str(control_plane.kubeconfig_path)
    )
    assert code == 1
    assert f'Migration "nope" not found in namespace "{namespace}"' in err


def test_status_shows_phase_plan_and_progress(
    kube_api: client.ApiClient, control_plane: ControlPlane, namespace: str, migration: str, capsys: Any
) -> None:
    write_status(
        kube_api,
        namespace,
        migration,
        {
            "phase": "Succeeded",
            "plan": {"hash": PLAN_HASH, "safe": 11},
            "progress": {"tablesTotal": 2, "tablesDone": 2, "rowsCopied": 3778, "percent": 100},
            "tables": [{"name": "track", "state": "done", "rowsCopied": 3503, "rowsEstimated": 3503}],
        },
    )
    code, out, _ = ferry(
        capsys,
        "status",
        f"mig/{migration}",
        "-n",
        namespace,
        "--kubeconfig",
        str(control_plane.kubeconfig_path),
    )
    assert code == 0
    assert "phase Succeeded" in out and PLAN_HASH in out and "3,778" in out and "track" in out
    # --watch returns at once for a finished Migration, with its exit code.
    code, out, _ = ferry(
        capsys, "status", migration, "-w", "-n", namespace, "--kubeconfig", str(control_plane.kubeconfig_path)
    )
    assert code == 0 and "phase Succeeded" in out


def test_viewers_may_not_steer_editors_may(
    kube_api: client.ApiClient, control_plane: ControlPlane, namespace: str, migration: str, capsys: Any
) -> None:
    """The shipped ferry-viewer/ferry-editor ClusterRoles, bound in the namespace as a Project would."""
    control_plane.kubectl(
        "apply", "--server-side", "-f", str(REPO / "manifests" / "install" / "clusterroles-users.yaml")
    )
    rbac = client.RbacAuthorizationV1Api(kube_api)
    for user, role in (("alice", "ferry-viewer"), ("bob", "ferry-editor")):
        rbac.create_namespaced_role_binding(
            namespace,
            {
                "metadata": {"name": f"{user}-{role}"},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
                "subjects": [{"kind": "User", "name": user, "apiGroup": "rbac.authorization.k8s.io"}],
            },
        )
    alice = str(control_plane.kubeconfig_for_token(control_plane.user_token("alice"), "alice"))
    bob = str(control_plane.kubeconfig_for_token(control_plane.user_token("bob"), "bob"))

    code, out, _ = ferry(capsys, "status", migration, "-n", namespace, "--kubeconfig", alice)
    assert code == 0 and "Migration" in out
    code, _, err = ferry(capsys, "suspend", migration, "-n", namespace, "--kubeconfig", alice)
    assert code == 1 and "forbidden" in err
    assert not read(kube_api, namespace, migration)["spec"].get("suspend")
    code, _, _ = ferry(capsys, "suspend", migration, "-n", namespace, "--kubeconfig", bob)
    assert code == 0
    assert read(kube_api, namespace, migration)["spec"]["suspend"] is True
