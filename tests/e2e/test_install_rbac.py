"""The shipped operator ClusterRole on a real apiserver: enough to do the operator's job, no more.

RBAC escalation prevention is enforced by the apiserver, not by a unit test: a ServiceAccount
bound to `ferry-operator` (as in manifests/install) creates the worker's Role and binds the
user roles exactly as the operator does, and is refused what it must not do.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from ferry.api.connection import DatabaseConnectionSpec
from ferry.api.migration import MigrationSpec
from ferry.api.resources import DEFAULT_JOB_RESOURCES
from ferry.kube.apply import server_side_apply
from ferry.kube.worker_job import JobInputs, build_worker_job
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
    role = client.RbacAuthorizationV1Api(kube_api).read_namespaced_role("ferry-worker-orders", namespace)
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


def _worker_job(namespace: str, migration_uid: str) -> dict[str, Any]:
    conn = DatabaseConnectionSpec.model_validate(
        {"engine": "postgresql", "host": "db", "database": "app", "credentialsSecretRef": {"name": "c"}}
    )
    spec = MigrationSpec.model_validate(
        {"source": {"connectionRef": {"name": "a"}}, "target": {"connectionRef": {"name": "b"}}}
    )
    inputs = JobInputs(
        migration_name="orders", namespace=namespace, migration_uid=migration_uid, spec=spec,
        source=conn, source_name="a", target=conn, target_name="b", attempt=1, plan_hash="p",
        image="ferry:test", service_account="ferry-worker-orders", resources=DEFAULT_JOB_RESOURCES,
    )  # fmt: skip
    return build_worker_job(inputs, parallelism=1)


def _orders(kube_api: client.ApiClient, namespace: str) -> str:
    migration = client.CustomObjectsApi(kube_api).create_namespaced_custom_object(
        "ferry.dev", "v1alpha1", namespace, "migrations",
        {"apiVersion": "ferry.dev/v1alpha1", "kind": "Migration", "metadata": {"name": "orders"},
         "spec": {"source": {"connectionRef": {"name": "a"}}, "target": {"connectionRef": {"name": "b"}}}},
    )  # fmt: skip
    uid: str = migration["metadata"]["uid"]
    return uid


def test_operator_creates_a_worker_job_that_blocks_its_migrations_deletion(
    operator_api: client.ApiClient, kube_api: client.ApiClient, namespace: str
) -> None:
    """The Job's owner reference sets blockOwnerDeletion; with OwnerReferencesPermissionEnforcement
    on (as in the test apiserver), that takes `update` on migrations/finalizers."""
    job = _worker_job(namespace, _orders(kube_api, namespace))
    assert job["metadata"]["ownerReferences"][0]["blockOwnerDeletion"] is True
    created = client.BatchV1Api(operator_api).create_namespaced_job(namespace, job)
    assert created.metadata.owner_references[0].block_owner_deletion is True


def test_without_migrations_finalizers_the_worker_job_is_refused(
    control_plane: ControlPlane, kube_api: client.ApiClient, namespace: str
) -> None:
    """The control: the shipped rules less migrations/finalizers cannot create the Job, so the
    admission plugin is on and the rule is what lets the operator through."""
    rules = yaml.safe_load((INSTALL / "clusterrole-operator.yaml").read_text())["rules"]
    kept = [r for r in rules if "migrations/finalizers" not in r["resources"]]
    assert len(kept) == len(rules) - 1
    name = f"ferry-operator-no-finalizers-{namespace}"
    rbac = client.RbacAuthorizationV1Api(kube_api)
    rbac.create_cluster_role({"metadata": {"name": name}, "rules": kept})
    core = client.CoreV1Api(kube_api)
    core.create_namespaced_service_account(namespace, {"metadata": {"name": "lesser"}})
    rbac.create_cluster_role_binding({
        "metadata": {"name": name},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": name},
        "subjects": [{"kind": "ServiceAccount", "name": "lesser", "namespace": namespace}],
    })  # fmt: skip
    token = core.create_namespaced_service_account_token(
        "lesser", namespace, {"spec": {"expirationSeconds": 3600}}
    ).status.token
    job = _worker_job(namespace, _orders(kube_api, namespace))
    try:
        with (
            api_client(control_plane.server, control_plane.ca_path, token) as lesser,
            pytest.raises(ApiException) as refused,
        ):
            client.BatchV1Api(lesser).create_namespaced_job(namespace, job)
        assert refused.value.status == 403
        assert "blockOwnerDeletion" in str(refused.value.body), refused.value.body
    finally:
        rbac.delete_cluster_role_binding(name)
        rbac.delete_cluster_role(name)
