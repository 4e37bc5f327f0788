"""The shipped operator ClusterRole on a real apiserver: enough to do the operator's job, no more.

RBAC escalation prevention is enforced by the apiserver, not by a unit test: a ServiceAccount
bound to `ferry-operator` (as in manifests/install) creates the worker's Role and binds the
user roles exactly as the operator does, and is refused what it must not do.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from ferry.kube.apply import server_side_apply
from ferry.kube.worker_rbac import WorkerIdentity, build_worker_rbac
from harness.controlplane import ControlPlane
from harness.kube import api_client

REPO = Path(__file__).resolve().parents[2]
INSTALL = REPO / "manifests" / "install"


@pytest.fixture
def operator_api(
    control_plane: ControlPlane, kube_api: client.ApiClient, crds: list[str], namespace: str
) -> Iterator[client.ApiClient]:
    """A client authenticated as a ServiceAccount bound to the shipped ferry-operator ClusterRole."""
    for manifest in ("clusterrole-operator.yaml", "clusterroles-users.yaml"):
        control_plane.kubectl("apply", "--server-side", "-f", str(INSTALL / manifest))
    core = client.CoreV1Api(kube_api)
    core.create_namespaced_service_account(namespace, {"metadata": {"name": "ferry-operator"}})
    client.RbacAuthorizationV1Api(kube_api).create_cluster_role_binding(
        {
            "metadata": {"name": f"ferry-operator-{namespace}"},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "ferry-operator",
            },
            "subjects": [{"kind": "ServiceAccount", "name": "ferry-operator", "namespace": namespace}],
        }
    )
    token = core.create_namespaced_service_account_token(
        "ferry-operator", namespace, {"spec": {"expirationSeconds": 3600}}
    ).status.token
    api = api_client(control_plane.server, control_plane.ca_path, token)
    yield api
    api.close()
    client.RbacAuthorizationV1Api(kube_api).delete_cluster_role_binding(f"ferry-operator-{namespace}")


def test_operator_creates_the_worker_role_without_escalate(
    operator_api: client.ApiClient, kube_api: client.ApiClient, namespace: str
) -> None:
    migration = client.CustomObjectsApi(kube_api).create_namespaced_custom_object(
        "ferry.dev", "v1alpha1", namespace, "migrations",
        {"apiVersion": "ferry.dev/v1alpha1", "kind": "Migration", "metadata": {"name": "orders"},
         "spec": {"source": {"connectionRef": {"name": "a"}}, "target": {"connectionRef": {"name": "b"}}}},
    )  # fmt: skip
    identity = WorkerIdentity(namespace, "orders", migration["metadata"]["uid"], ("a", "b"))
    for obj in build_worker_rbac(identity):
        server_side_apply(operator_api, obj)
    role = client.RbacAuthorizationV1Api(operator_api).read_namespaced_role("ferry-worker-orders", namespace)
    assert {(r, n) for rule in role.rules for r in rule.resources for n in rule.resource_names} == {
        ("migrations", "orders"),
        ("databaseconnections", "a"),
        ("databaseconnections", "b"),
        ("migrations/status", "orders"),
    }


def test_operator_binds_project_members_to_the_user_roles(
    operator_api: client.ApiClient, namespace: str
) -> None:
    # ferry-admin grants Secrets writes the operator does not hold: `bind` is what allows this.
    for role in ("ferry-admin", "ferry-editor", "ferry-viewer"):
        server_side_apply(
            operator_api,
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "RoleBinding",
                "metadata": {"name": role, "namespace": namespace},
                "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
                "subjects": [{"kind": "User", "name": "alice", "apiGroup": "rbac.authorization.k8s.io"}],
            },
        )


def test_operator_cannot_bind_other_cluster_roles(operator_api: client.ApiClient, namespace: str) -> None:
    with pytest.raises(ApiException) as refused:
        server_side_apply(
            operator_api,
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "RoleBinding",
                "metadata": {"name": "sneaky", "namespace": namespace},
                "roleRef": {
                    "apiGroup": "rbac.authorization.k8s.io",
                    "kind": "ClusterRole",
                    "name": "cluster-admin",
                },
                "subjects": [{"kind": "User", "name": "alice", "apiGroup": "rbac.authorization.k8s.io"}],
            },
        )
    assert refused.value.status == 403


def test_operator_reads_but_cannot_write_secrets(
    operator_api: client.ApiClient, kube_api: client.ApiClient, namespace: str
) -> None:
    client.CoreV1Api(kube_api).create_namespaced_secret(
        namespace, {"metadata": {"name": "creds"}, "stringData": {"password": "x"}}
    )
    core = client.CoreV1Api(operator_api)
    assert core.read_namespaced_secret("creds", namespace).data["password"]
    with pytest.raises(ApiException) as refused:
        core.create_namespaced_secret(namespace, {"metadata": {"name": "mine"}, "stringData": {"k": "v"}})
    assert refused.value.status == 403
