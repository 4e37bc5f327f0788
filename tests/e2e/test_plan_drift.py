"""A spec changed after approval: the approval goes stale, and a worker of the old plan writes nothing.

The operator re-plans a Migration that awaits approval; a `where` added in the same change as
the approval makes another plan, so the approval names a stale hash and no Job starts. A Job
made for the approved plan anyway (left over, or created by hand) runs its worker pod on the
stand-in kubelet: the worker reads the Migration, sees that its FERRY_PLAN_HASH is not the
Migration's plan, and refuses before writing; a Job of the current plan but the approved
selection refuses for the changed filter.
"""

from __future__ import annotations

from typing import Any

import psycopg
from kubernetes import client

from e2e.migration_helpers import (
    condition,
    get_migration,
    patch_migration_spec,
    start_migration,
    wait_for_phase,
    worker_jobs,
)
from ferry.api.migration import MigrationSpec, MigrationStatus, PlanStatus
from ferry.services.effective import apply_effective
from ferry.services.worker_jobs import create_worker_job, ensure_worker_rbac, worker_identity
from harness.databases import Database
from harness.kube import wait_for
from harness.operator_process import OperatorProcess
from harness.podrunner import PodRunner


def _target_tables(db: Database) -> set[str]:
    with psycopg.connect(db.libpq_dsn()) as conn:
        rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()
    return {r[0] for r in rows}


def _run_worker_of(
    kube_api: client.ApiClient, runner: PodRunner, namespace: str, obj: dict[str, Any], attempt: int,
    plan: PlanStatus, says: str,
) -> dict[str, Any]:  # fmt: skip
    """Create the copy Job the operator would create for `plan` (as attempt `attempt`) and wait
    for its worker to report a failure that `says` what it was told."""
    status = MigrationStatus.model_validate(obj.get("status") or {})
    spec = apply_effective(MigrationSpec.model_validate(obj["spec"]), status.effective)
    name, uid = obj["metadata"]["name"], obj["metadata"]["uid"]
    ensure_worker_rbac(kube_api, worker_identity(name, namespace, uid, spec))
    create_worker_job(
        kube_api, name, namespace, uid, spec, status.model_copy(update={"plan": plan, "attempts": attempt})
    )

    def refused() -> dict[str, Any] | None:
        workers = (get_migration(kube_api, namespace, name).get("status") or {}).get("workers") or {}
        worker: dict[str, Any] | None = workers.get("0")
        return (
            worker
            if worker and worker.get("state") == "failed" and says in worker.get("message", "")
            else None
        )

    try:
        found: dict[str, Any] = wait_for(
            refused, timeout=120, what=f"the worker of attempt {attempt} to refuse"
        )
    except TimeoutError as exc:
        seen = get_migration(kube_api, namespace, name).get("status") or {}
        raise AssertionError(
            f"{exc}; workers: {seen.get('workers')}; pod logs:\n{runner.all_logs()}"
        ) from exc
    return found


def test_a_where_added_after_approval_stales_the_approval_and_old_plan_workers_refuse(
    kube_api: client.ApiClient, namespace: str, operator: OperatorProcess, pod_runner: PodRunner,
    pg_source: Database, pg_db2: Database,
) -> None:  # fmt: skip
    # drop-created on delete is destructive: the plan waits for an approval.
    start_migration(kube_api, namespace, "drift", pg_source, pg_db2, {
        "source": {"connectionRef": {"name": "src"}}, "target": {"connectionRef": {"name": "dst"}},
        "tables": {"include": ["artist"]}, "rollback": {"onDelete": "drop-created"},
    })  # fmt: skip
    approved_obj = wait_for_phase(kube_api, namespace, "drift", {"AwaitingApproval"}, timeout=120)
    approved = PlanStatus.model_validate(approved_obj["status"]["plan"])
    assert approved.hash and approved.selection_hash
    approved_hash = approved.hash

    # The approval and a filter arrive together: the filter makes another plan.
    patch_migration_spec(kube_api, namespace, "drift", {
        "approval": {"planHash": approved.hash},
        "tables": {"include": ["artist"], "overrides": [{"name": "artist", "where": "artist_id < 10"}]},
    })  # fmt: skip

    def stale() -> dict[str, Any] | None:
        obj = get_migration(kube_api, namespace, "drift")
        ready = condition(obj.get("status") or {}, "Ready")
        return obj if ready.get("reason") == "ApprovalStale" else None

    current_obj = wait_for(stale, timeout=90, what="the approval to go stale")
    current = PlanStatus.model_validate(current_obj["status"]["plan"])
    assert current.hash
    assert current.hash != approved.hash and current.selection_hash != approved.selection_hash
    assert current_obj["status"]["phase"] == "AwaitingApproval"
    assert f"the approved plan {approved_hash[:12]} is out of date" in current_obj["status"]["message"]
    assert not worker_jobs(kube_api, namespace, "drift")

    # A worker of the approved (now stale) plan refuses: its Job names another plan.
    worker = _run_worker_of(
        kube_api, pod_runner, namespace, current_obj, 1, approved, "this Job was created for plan"
    )
    assert (
        f"created for plan {approved_hash[:12]}, but the Migration's plan is now {current.hash[:12]}"
        in (worker["message"])
    )
    assert not worker.get("rowsCopied")

    # A worker of the current plan but the approved selection refuses for the changed filter.
    drifted = current.model_copy(update={"selection_hash": approved.selection_hash})
    worker = _run_worker_of(
        kube_api,
        pod_runner,
        namespace,
        current_obj,
        2,
        drifted,
        "filters or transforms changed after its plan was approved",
    )
    assert not worker.get("rowsCopied")

    # Neither wrote: the target has no artist table (nothing was even created).
    assert "artist" not in _target_tables(pg_db2)
    assert get_migration(kube_api, namespace, "drift")["status"]["phase"] == "AwaitingApproval"
