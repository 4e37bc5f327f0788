"""The worker pod: copy this index's share of the work units and report progress.

It reads its Migration and the two DatabaseConnections with its own ServiceAccount token
(get only), receives every Secret key as a FERRY_SECRET_* env var (never reads Secrets),
and writes only `status.workers.<index>`. Exit code 0 when its units are done, 1 otherwise;
the Job controller retries failed indexes up to backoffLimit, and checkpoints make the retry
resume where the failed pod stopped.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import time
from dataclasses import dataclass

from ferry.api.connection import DatabaseConnectionSpec
from ferry.api.kinds import DATABASE_CONNECTION, MIGRATION
from ferry.api.migration import MigrationSpec, WorkerStatus
from ferry.copy import CopyJob, ProgressEvent, ProgressTracker, plan_units, run_units, units_for_worker
from ferry.db.credentials import EnvSecretSource, resolve_credentials
from ferry.kube.client import load_api_client
from ferry.kube.status import get_object
from ferry.observability.logging import configure_logging, get_logger
from ferry.services.endpoints import endpoints_for
from ferry.services.planning import Side, source_mappings
from ferry.worker.reporter import StatusReporter, table_entries

SUSPEND_POLL_SECONDS = 1.0


@dataclass(frozen=True)
class WorkerEnv:
    name: str
    namespace: str
    uid: str
    index: int
    count: int

    @classmethod
    def from_environ(cls) -> WorkerEnv:
        env = os.environ
        return cls(
            name=env["FERRY_MIGRATION_NAME"],
            namespace=env["FERRY_MIGRATION_NAMESPACE"],
            uid=env["FERRY_MIGRATION_UID"],
            index=int(env.get("JOB_COMPLETION_INDEX", "0")),
            count=int(env.get("FERRY_WORKER_COUNT", "1")),
        )


def run_worker(env: WorkerEnv) -> int:
    log = get_logger("ferry.worker", migration=env.name, namespace=env.namespace, index=env.index)
    api = load_api_client()
    secrets = EnvSecretSource()
    spec = MigrationSpec.model_validate(get_object(api, MIGRATION, env.namespace, env.name)["spec"])

    def side(name: str) -> Side:
        conn = DatabaseConnectionSpec.model_validate(
            get_object(api, DATABASE_CONNECTION, env.namespace, name)["spec"]
        )
        return Side(conn, resolve_credentials(conn, secrets))

    source, target = side(spec.source.connection_ref.name), side(spec.target.connection_ref.name)
    mappings = source_mappings(spec, source, target)
    endpoints = endpoints_for(source, target)
    units = asyncio.run(plan_units(mappings, endpoints.source, spec.copy_))
    mine = units_for_worker(units, env.index, env.count)
    log.info("worker starting", units=len(mine), units_total=len(units))

    reporter = StatusReporter(api, env.namespace, env.name, env.index)
    tracker = ProgressTracker()
    for unit in mine:
        tracker.expect(unit.unit_id, unit.table, unit.estimated_rows)
    tracker.start()

    def snapshot(state: str, message: str | None = None) -> WorkerStatus:
        tables = tracker.tables()
        rows = {name: t.rows_copied for name, t in tables.items()}
        estimates = {name: t.estimated_rows for name, t in tables.items()}
        states = {
            name: ("done" if t.done else "copying" if t.rows_copied else "pending")
            for name, t in tables.items()
        }
        if state == "failed":
            states = {n: (s if s == "done" else "failed") for n, s in states.items()}
        return WorkerStatus(
            state=state,
            units_total=len(mine),
            units_done=sum(1 for u in tracker.units.values() if u.done),
            rows_copied=tracker.rows_copied,
            rows_per_second=round(tracker.rows_per_second(), 1) if state == "running" else 0.0,
            tables=table_entries(rows, estimates, states),
            message=message,
        )

    def on_progress(event: ProgressEvent) -> None:
        tracker.update(event)
        reporter.report(snapshot("running"))

    def should_stop() -> bool:
        # spec.suspend: start no new batch; the operator suspends the Job, which ends this pod.
        while reporter.suspended():
            reporter.report(snapshot("suspended"))
            time.sleep(SUSPEND_POLL_SECONDS)
        return False

    reporter.report(snapshot("running"), force=True)
    job = CopyJob(migration_uid=env.uid, endpoints=endpoints, copy=spec.copy_, secrets=secrets)
    results = asyncio.run(run_units(job, mine, progress=on_progress, should_stop=should_stop))
    if results.ok:
        reporter.report(snapshot("done"), force=True)
        log.info("worker done", rows=results.rows_copied)
        return 0
    failure = results.failed[0]
    message = f"{failure.table}: {failure.error}"
    reporter.report(snapshot("failed", message), force=True)
    log.error("worker failed", table=failure.table, error=failure.error)
    return 1


def main() -> int:
    configure_logging()
    signal.signal(
        signal.SIGTERM, lambda *_: sys.exit(143)
    )  # uncommitted batch rolls back with the connection
    return run_worker(WorkerEnv.from_environ())
