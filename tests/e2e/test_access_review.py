"""`kubectl ferry access` and `access-review`: the apiserver's own answer to who can do what with Ferry,
in a namespace and over a Project."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from ferry.api.kinds import GROUP, VERSION
from ferry.cli import access, access_review
from harness.controlplane import ControlPlane
from harness.kube import hand_to_project


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


def _sar(api: client.ApiClient, identity: dict[str, Any], attributes: dict[str, Any]) -> bool:
    review = client.AuthorizationV1Api(api).create_subject_access_review(
        {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
         "spec": {**identity, "resourceAttributes": attributes}}
    )  # fmt: skip
    return bool(review.status.allowed)


def test_the_project_review_matches_subject_access_reviews_for_every_subject(
    kube_api: client.ApiClient, control_plane: ControlPlane, operator_kubeconfig: Path, namespace: str,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    """`kubectl ferry access-review --project`: over the Project's namespace, who may create, edit and
    delete Migrations and DatabaseConnections, approve plans, and read the Secrets the connections
    reference (a `resourceNames` grant counts); every mark is what the apiserver answers."""
    hand_to_project(kube_api, namespace, namespace)
    client.CustomObjectsApi(kube_api).create_cluster_custom_object(
        GROUP, VERSION, "projects",
        {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Project", "metadata": {"name": namespace},
         "spec": {"namespace": namespace}},
    )  # fmt: skip
    for user, role in (("alice", "ferry-viewer"), ("bob", "ferry-editor"), ("carol", "ferry-approver")):
        _bind(kube_api, namespace, user, role)
    core, rbac = client.CoreV1Api(kube_api), client.RbacAuthorizationV1Api(kube_api)
    credentials = {"username": "u", "password": "pw-review"}
    core.create_namespaced_secret(namespace, {"metadata": {"name": "db-creds"}, "stringData": credentials})
    client.CustomObjectsApi(kube_api).create_namespaced_custom_object(
        GROUP, VERSION, namespace, "databaseconnections",
        {"apiVersion": f"{GROUP}/{VERSION}", "kind": "DatabaseConnection", "metadata": {"name": "db"},
         "spec": {"engine": "postgresql", "host": "db.example.com", "port": 5432, "database": "app",
                  "credentialsSecretRef": {"name": "db-creds"}}},
    )  # fmt: skip
    rbac.create_namespaced_role(namespace, {
        "metadata": {"name": "read-db-creds"},
        "rules": [{"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["db-creds"],
                   "verbs": ["get"]}],
    })  # fmt: skip
    core.create_namespaced_service_account(namespace, {"metadata": {"name": "deployer"}})
    rbac.create_namespaced_role_binding(namespace, {
        "metadata": {"name": "deployer-creds"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "read-db-creds"},
        "subjects": [{"kind": "ServiceAccount", "name": "deployer", "namespace": namespace},
                     {"kind": "Group", "name": "dba", "apiGroup": "rbac.authorization.k8s.io"}],
    })  # fmt: skip

    parser = argparse.ArgumentParser(prog="ferry")
    access_review.register(parser.add_subparsers(required=True))
    args = parser.parse_args(["access-review", "--project", namespace, "--kubeconfig",
                              str(control_plane.kubeconfig_path), "--output", "json"])  # fmt: skip
    assert args.func(args) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["namespaces"] == [namespace]
    rows = {r["subject"]: r for r in out["subjects"]}

    # Every listed answer is the apiserver's, asked again here independently of the command.
    for row in rows.values():
        subject = access.Subject(row["kind"], row["name"], row["subjectNamespace"])
        for action in access_review.ACTIONS:
            attributes = {"namespace": namespace, "group": action.group, "resource": action.resource,
                          "verb": action.verb}  # fmt: skip
            assert row["may"][action.name] == _sar(kube_api, subject.review_identity(), attributes), (
                row["subject"], action.name)  # fmt: skip
        secret = {
            "namespace": namespace,
            "group": "",
            "resource": "secrets",
            "verb": "get",
            "name": "db-creds",
        }
        assert row["secrets"] == {"db-creds": _sar(kube_api, subject.review_identity(), secret)}

    def may(subject: str) -> set[str]:
        return {name for name, yes in rows[subject]["may"].items() if yes}

    assert "User/alice" not in rows  # a viewer changes nothing and reads no Secret
    assert {"create migrations", "edit migrations", "delete migrations"} <= may("User/bob")
    assert "approve plans" not in may("User/bob")
    assert may("User/carol") == {"approve plans"}
    for reader in (f"ServiceAccount/{namespace}/deployer", "Group/dba"):
        assert may(reader) == set() and rows[reader]["secrets"] == {"db-creds": True}
    assert rows["Group/system:masters"]["secrets"] == {"db-creds": True}
    client.CustomObjectsApi(kube_api).delete_cluster_custom_object(GROUP, VERSION, "projects", namespace)
