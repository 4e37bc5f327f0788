"""The worker side of a Migration in the cluster: its namespace RBAC and its Job per attempt."""

from __future__ import annotations

import os
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from ferry import __version__
from ferry.api.connection import DatabaseConnectionSpec
from ferry.api.kinds import DATABASE_CONNECTION
from ferry.api.migration import MigrationSpec, MigrationStatus
from ferry.api.resources import DEFAULT_JOB_RESOURCES
from ferry.kube.apply import server_side_apply
from ferry.kube.status import get_object
from ferry.kube.worker_job import JobInputs, build_follower_job, build_validation_job, build_worker_job
from ferry.kube.worker_rbac import WorkerIdentity, build_worker_rbac, worker_name
from ferry.services.connection_budget import worker_count
from ferry.services.effective import with_project_placement

DEFAULT_IMAGE = f"ghcr.io/ferry-dev/ferry:{__version__}"


def worker_identity(name: str, namespace: str, uid: str, spec: MigrationSpec) -> WorkerIdentity:
    connections = (spec.source.connection_ref.name, spec.target.connection_ref.name)
    return WorkerIdentity(namespace, name, uid, connections, spec.job.service_account_name)


def ensure_worker_rbac(api: client.ApiClient, identity: WorkerIdentity) -> None:
    """The Migration's `ferry-worker-<name>` ServiceAccount, Role and RoleBinding (server-side
    apply: idempotent; a spec change of the connections updates the Role's resourceNames)."""
    for obj in build_worker_rbac(identity):
        server_side_apply(api, obj)


def _job_inputs(
    api: client.ApiClient, name: str, namespace: str, uid: str, spec: MigrationSpec, status: MigrationStatus
) -> JobInputs:
    """What the copy and the follower Job builders share: the Migration, its two connections
    (read from the API, as the plan used them), the attempt, the plan and the pod's identity."""
    spec = with_project_placement(spec, status.effective)
    source = get_object(api, DATABASE_CONNECTION, namespace, spec.source.connection_ref.name)
    target = get_object(api, DATABASE_CONNECTION, namespace, spec.target.connection_ref.name)
    return JobInputs(
        migration_name=name,
        namespace=namespace,
        migration_uid=uid,
        spec=spec,
        source=DatabaseConnectionSpec.model_validate(source["spec"]),
        source_name=spec.source.connection_ref.name,
        target=DatabaseConnectionSpec.model_validate(target["spec"]),
        target_name=spec.target.connection_ref.name,
        attempt=status.attempts,
        plan_hash=status.plan.hash if status.plan and status.plan.hash else "",
        selection_hash=status.plan.selection_hash or "" if status.plan else "",
        image=spec.job.image or os.environ.get("FERRY_WORKER_IMAGE", DEFAULT_IMAGE),
        service_account=spec.job.service_account_name or worker_name(name),
        # A status recorded before Ferry had defaults holds none: the pod still gets them.
        resources=spec.job.resources or DEFAULT_JOB_RESOURCES,
    )


class StaleJob(Exception):
    """A Job of this name belongs to an earlier Migration of the same name; it is being deleted."""


def _owner_uids(job: Any) -> set[str]:
    return {ref.uid for ref in (job.metadata.owner_references or [])}


def _create(api: client.ApiClient, namespace: str, job: dict[str, Any], uid: str) -> str:
    """Create the Job, or adopt it when it exists and is this Migration's (created before an
    operator restart: the deterministic name finds it). A Job of the same name owned by another
    UID is an earlier Migration's of the same name (deleted and created again while its Job
    remained, before garbage collection removed it): never adopted, it is deleted with its pods,
    and this Migration's own Job is created in its place."""
    batch, job_name = client.BatchV1Api(api), str(job["metadata"]["name"])
    for _ in range(2):
        try:
            batch.create_namespaced_job(namespace, job)
            return job_name
        except ApiException as exc:
            if exc.status != 409:
                raise
        existing = read_worker_job(api, namespace, job_name)
        if existing is None:
            continue  # gone in between: create it now
        if uid in _owner_uids(existing):
            return job_name
        try:
            batch.delete_namespaced_job(
                job_name, namespace, propagation_policy="Background",
                body={"preconditions": {"uid": existing.metadata.uid}},
            )  # fmt: skip
        except ApiException as exc:
            if exc.status not in (404, 409):
                raise
    raise StaleJob(
        f"Job {job_name} belongs to an earlier Migration of the same name and is still being deleted; "
        "this Migration's Job is created once it is gone"
    )


def create_worker_job(
    api: client.ApiClient, name: str, namespace: str, uid: str, spec: MigrationSpec, status: MigrationStatus
) -> str:
    """Create the Job of the current attempt, or adopt it when it exists (an operator restart)."""
    inputs = _job_inputs(api, name, namespace, uid, spec, status)
    # Capped databases (maxConnections): as many pods as the budget gives room for one unit each.
    pods = worker_count(spec.copy_.parallelism, inputs.source, inputs.target)
    return _create(api, namespace, build_worker_job(inputs, parallelism=pods), uid)


def create_follower_job(
    api: client.ApiClient, name: str, namespace: str, uid: str, spec: MigrationSpec, status: MigrationStatus
) -> str:
    """Create (or adopt) the online follower's Job of the current attempt."""
    job = build_follower_job(_job_inputs(api, name, namespace, uid, spec, status))
    return _create(api, namespace, job, uid)


def create_validation_job(
    api: client.ApiClient, name: str, namespace: str, uid: str, spec: MigrationSpec, status: MigrationStatus,
    run: int,
) -> str:  # fmt: skip
    """Create (or adopt, after an operator restart) the validation Job of run `run`."""
    inputs = _job_inputs(api, name, namespace, uid, spec, status)
    # Capped databases (maxConnections): no more pods than the copy had (ferry.worker.validate
    # then compares one range at a time per pod, within each pod's share of the budget).
    pods = worker_count(inputs.spec.copy_.parallelism, inputs.source, inputs.target)
    job = build_validation_job(inputs, parallelism=pods, run=run)
    return _create(api, namespace, job, uid)


def read_worker_job(
    api: client.ApiClient, namespace: str, job_name: str | None, uid: str | None = None
) -> Any:
    """The Job, or None when it was never created or has been deleted, or (given the Migration's
    `uid`) when the Job of that name is not this Migration's."""
    if not job_name:
        return None
    try:
        job = client.BatchV1Api(api).read_namespaced_job(job_name, namespace)
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise
    return None if uid is not None and uid not in _owner_uids(job) else job
