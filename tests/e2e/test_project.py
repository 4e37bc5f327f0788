"""Projects end to end: a team's namespace, its members' access through real RBAC, its quota."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from ferry.api.connection import DatabaseConnectionSpec
from ferry.api.kinds import GROUP, VERSION
from ferry.api.migration import MigrationSpec
from ferry.api.resources import DEFAULT_JOB_RESOURCES, ResourceRequirements
from ferry.kube.worker_job import JobInputs, build_worker_job
from harness.controlplane import ControlPlane
from harness.kube import hand_to_project, wait_for
from harness.operator_process import OperatorProcess

USER_ROLES = Path(__file__).resolve().parents[2] / "manifests" / "install" / "clusterroles-users.yaml"


def _project(api: client.ApiClient, name: str, spec: dict[str, object]) -> None:
    client.CustomObjectsApi(api).create_cluster_custom_object(
        GROUP, VERSION, "projects",
        {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Project", "metadata": {"name": name}, "spec": spec},
    )  # fmt: skip


def _ready(api: client.ApiClient, name: str) -> dict[str, object] | None:
    obj = client.CustomObjectsApi(api).get_cluster_custom_object(GROUP, VERSION, "projects", name)
    conditions = (obj.get("status") or {}).get("conditions", [])
    return obj if any(c["type"] == "Ready" and c["status"] == "True" for c in conditions) else None


def _connection() -> dict[str, object]:
    return {
        "apiVersion": f"{GROUP}/{VERSION}", "kind": "DatabaseConnection", "metadata": {"name": "db"},
        "spec": {"engine": "postgresql", "host": "db", "database": "app",
                 "credentialsSecretRef": {"name": "c"}},
    }  # fmt: skip


def test_project_owns_a_namespace_and_binds_members_to_ferry_roles(
    kube_api: client.ApiClient, control_plane: ControlPlane, operator: OperatorProcess,
    user_api: dict[str, client.ApiClient],
) -> None:  # fmt: skip
    control_plane.kubectl("apply", "--server-side", "-f", str(USER_ROLES))
    name = f"team-{uuid.uuid4().hex[:6]}"
    _project(kube_api, name, {
        "members": [{"kind": "User", "name": "alice", "role": "editor"},
                    {"kind": "User", "name": "bob", "role": "viewer"}],
        "quota": {"maxJobs": 3},
    })  # fmt: skip
    ready = wait_for(lambda: _ready(kube_api, name), timeout=60, what=f"Project {name} Ready")
    assert ready["status"]["namespace"] == name  # type: ignore[index]

    core = client.CoreV1Api(kube_api)
    assert core.read_namespace(name).metadata.labels["ferry.dev/project"] == name
    quota = core.read_namespaced_resource_quota("ferry-project", name)
    assert quota.spec.hard == {"count/jobs.batch": "3"}

    custom = {user: client.CustomObjectsApi(api) for user, api in user_api.items()}

    def alice_creates() -> bool | None:
        try:
            custom["alice"].create_namespaced_custom_object(
                GROUP, VERSION, name, "databaseconnections", _connection()
            )
        except client.ApiException as exc:
            if exc.status == 403:
                return None  # the apiserver's RBAC cache has not seen the new binding yet
            raise
        return True

    wait_for(alice_creates, timeout=30, what="alice (editor) creating a DatabaseConnection")
    assert custom["bob"].list_namespaced_custom_object(GROUP, VERSION, name, "databaseconnections")["items"]
    with pytest.raises(client.ApiException) as viewer_write:
        custom["bob"].delete_namespaced_custom_object(GROUP, VERSION, name, "databaseconnections", "db")
    assert viewer_write.value.status == 403
    with pytest.raises(client.ApiException) as outsider:
        custom["carol"].list_namespaced_custom_object(GROUP, VERSION, name, "databaseconnections")
    assert outsider.value.status == 403

    # Removing a member revokes their access.
    client.CustomObjectsApi(kube_api).patch_cluster_custom_object(
        GROUP,
        VERSION,
        "projects",
        name,
        {"spec": {"members": [{"kind": "User", "name": "alice", "role": "editor"}]}},
    )

    def bob_locked_out() -> bool | None:
        try:
            custom["bob"].list_namespaced_custom_object(GROUP, VERSION, name, "databaseconnections")
        except client.ApiException as exc:
            return exc.status == 403 or None
        return None

    wait_for(bob_locked_out, timeout=60, what="bob's access revoked")


def _conditions(api: client.ApiClient, name: str) -> dict[str, dict[str, str]]:
    obj = client.CustomObjectsApi(api).get_cluster_custom_object(GROUP, VERSION, "projects", name)
    return {c["type"]: c for c in (obj.get("status") or {}).get("conditions", [])}


def test_a_project_never_adopts_a_namespace_ferry_did_not_label(
    kube_api: client.ApiClient, operator: OperatorProcess, namespace: str,
) -> None:  # fmt: skip
    """`namespace` exists without Ferry's label: the Project stalls, binds nobody there, and
    takes it once an admin labels it for this Project."""
    name = f"grab-{uuid.uuid4().hex[:6]}"
    _project(kube_api, name, {
        "namespace": namespace, "members": [{"kind": "User", "name": "mallory", "role": "admin"}],
    })  # fmt: skip

    def stalled() -> dict[str, str] | None:
        return _conditions(kube_api, name).get("Stalled")

    stall = wait_for(stalled, timeout=60, what=f"Project {name} to stall")
    assert stall["reason"] == "NamespaceNotFerrys"
    assert f"label it ferry.dev/project={name}" in stall["message"]
    rbac = client.RbacAuthorizationV1Api(kube_api)
    assert not rbac.list_namespaced_role_binding(namespace).items  # mallory got nothing here
    assert "ferry.dev/project" not in (
        client.CoreV1Api(kube_api).read_namespace(namespace).metadata.labels or {}
    )

    hand_to_project(kube_api, namespace, name)
    # A label is not a spec change: the Project is reconciled again by a spec touch (or a restart).
    client.CustomObjectsApi(kube_api).patch_cluster_custom_object(
        GROUP, VERSION, "projects", name, {"spec": {"quota": {"maxJobs": 2}}}
    )
    wait_for(lambda: _ready(kube_api, name), timeout=60, what=f"Project {name} Ready after the label")
    assert [b.metadata.name for b in rbac.list_namespaced_role_binding(namespace).items] == ["ferry-admin"]
    client.CustomObjectsApi(kube_api).delete_cluster_custom_object(GROUP, VERSION, "projects", name)


def test_a_project_never_takes_kube_system(kube_api: client.ApiClient, operator: OperatorProcess) -> None:
    name = f"sys-{uuid.uuid4().hex[:6]}"
    _project(kube_api, name, {"namespace": "kube-system"})
    stall = wait_for(
        lambda: _conditions(kube_api, name).get("Stalled"), timeout=60, what="the Project to stall"
    )
    assert stall["reason"] == "NamespaceNotFerrys" and "reserved for the cluster" in stall["message"]
    labels = client.CoreV1Api(kube_api).read_namespace("kube-system").metadata.labels or {}
    assert "ferry.dev/project" not in labels
    client.CustomObjectsApi(kube_api).delete_cluster_custom_object(GROUP, VERSION, "projects", name)


def _job_pods(api: client.ApiClient, namespace: str, job: str) -> list[Any]:
    return list(client.CoreV1Api(api).list_namespaced_pod(namespace, label_selector=f"job-name={job}").items)


def test_a_project_quota_admits_worker_pods_with_ferrys_default_resources(
    kube_api: client.ApiClient, operator: OperatorProcess
) -> None:
    """A quota on requests.cpu/memory refuses every pod that names no requests: a worker with
    Ferry's defaults is admitted, one with `resources: {}` is refused (the quota is live)."""
    name = f"quota-{uuid.uuid4().hex[:6]}"
    _project(kube_api, name, {"quota": {"cpu": "2", "memory": "2Gi"}})
    wait_for(lambda: _ready(kube_api, name), timeout=60, what=f"Project {name} Ready")
    core = client.CoreV1Api(kube_api)
    wait_for(
        lambda: core.read_namespaced_resource_quota("ferry-project", name).status.hard,
        timeout=60, what="the quota's usage to be computed",
    )  # fmt: skip
    batch = client.BatchV1Api(kube_api)
    defaulted = _quota_job(name, "defaulted", DEFAULT_JOB_RESOURCES)
    bare = _quota_job(name, "bare", ResourceRequirements())
    batch.create_namespaced_job(name, defaulted)
    batch.create_namespaced_job(name, bare)
    [pod] = wait_for(lambda: _job_pods(kube_api, name, defaulted["metadata"]["name"]), timeout=60,
                     what="the defaulted worker's pod")  # fmt: skip
    requests = pod.spec.containers[0].resources.requests
    assert requests == {"cpu": "100m", "memory": "256Mi"}

    def refused() -> str | None:
        events = core.list_namespaced_event(
            name, field_selector=f"involvedObject.name={bare['metadata']['name']}"
        )
        found = [e.message for e in events.items if e.reason == "FailedCreate"]
        return found[0] if found else None

    message = wait_for(refused, timeout=60, what="the bare worker's pod to be refused")
    assert "exceeded quota" in message or "must specify" in message, message
    assert not _job_pods(kube_api, name, bare["metadata"]["name"])
    client.CustomObjectsApi(kube_api).delete_cluster_custom_object(GROUP, VERSION, "projects", name)


def _quota_job(namespace: str, migration: str, resources: ResourceRequirements) -> dict[str, Any]:
    conn = DatabaseConnectionSpec.model_validate(
        {"engine": "postgresql", "host": "db", "database": "app", "credentialsSecretRef": {"name": "c"}}
    )
    spec = MigrationSpec.model_validate(
        {"source": {"connectionRef": {"name": "a"}}, "target": {"connectionRef": {"name": "b"}}}
    )
    inputs = JobInputs(
        migration_name=migration, namespace=namespace, migration_uid=str(uuid.uuid4()), spec=spec,
        source=conn, source_name="a", target=conn, target_name="b", attempt=1, plan_hash="p",
        image="ferry:test", service_account="default", resources=resources,
    )  # fmt: skip
    job = build_worker_job(inputs, parallelism=1)
    del job["metadata"]["ownerReferences"]  # no Migration here; the quota is what is tested
    return job
