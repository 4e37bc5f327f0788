"""The worker pod: copy this index's share of the work units and report progress.

It reads its Migration and the two DatabaseConnections with its own ServiceAccount token
(get only), receives every Secret key as a FERRY_SECRET_* env var (never reads Secrets),
and writes only `status.workers.<index>`. Exit code 0 when its units are done, 1 when one
failed, 143 when SIGTERM stopped it first; the Job controller retries failed indexes up to
backoffLimit, and checkpoints make the retry resume where the failed pod stopped. How the
copy pauses (spec.suspend) and stops (SIGTERM) between batches: `ferry.worker.control`.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Sequence

from ferry.api.migration import TableState, WorkerSessions, WorkerState, WorkerStatus
from ferry.copy import ProgressEvent, ProgressTracker, UnitResults
from ferry.copy.sessions import SessionLedger
from ferry.observability.errors import first_line
from ferry.observability.logging import configure_logging, get_logger
from ferry.schema import TableMapping
from ferry.schema.plan import selection_hash
from ferry.services.copy_driver import CopyShare, copy_share
from ferry.worker.control import CopyControl
from ferry.worker.reporter import StatusReporter, table_entries
from ferry.worker.setup import EXIT_SIGTERM, WorkerEnv, exit_on_sigterm, load_inputs


def run_worker(env: WorkerEnv) -> int:
    log = get_logger("ferry.worker", migration=env.name, namespace=env.namespace, index=env.index)
    inputs = load_inputs(env)
    sessions = SessionLedger()  # what the pod holds open, and its reconnects: status, then metrics
    share = asyncio.run(
        copy_share(
            inputs.spec,
            inputs.source,
            inputs.target,
            migration_uid=env.uid,
            secrets=inputs.secrets,
            index=env.index,
            count=env.count,
            sessions=sessions,
        )
    )
    mine = share.units
    log.info("worker starting", units=len(mine), units_total=share.units_total)

    reporter = StatusReporter(inputs.api, env.namespace, env.name, env.index)
    tracker = ProgressTracker()
    for unit in mine:
        tracker.expect(unit.unit_id, unit.table, unit.estimated_rows)
    tracker.start()

    def snapshot(state: WorkerState, message: str | None = None) -> WorkerStatus:
        tables = tracker.tables()
        rows = {name: t.rows_copied for name, t in tables.items()}
        estimates = {name: t.estimated_rows for name, t in tables.items()}
        states = {
            name: (TableState.DONE if t.done else TableState.COPYING if t.rows_copied else TableState.PENDING)
            for name, t in tables.items()
        }
        if state == WorkerState.FAILED:
            states = {n: (s if s == TableState.DONE else TableState.FAILED) for n, s in states.items()}
        return WorkerStatus(
            state=state,
            units_total=len(mine),
            units_done=sum(1 for u in tracker.units.values() if u.done),
            rows_copied=tracker.rows_copied,
            rows_per_second=round(tracker.rows_per_second(), 1) if state == WorkerState.RUNNING else 0.0,
            bytes_copied=tracker.bytes_moved,
            cpu_seconds=round(time.process_time(), 2),  # this process: user + system
            tables=table_entries(rows, estimates, states),
            sessions=session_counts(sessions),
            pod=os.environ.get("FERRY_POD_NAME"),  # the downward API (ferry.kube.worker_job)
            message=message,
        )

    refusal = plan_refusal(os.environ.get("FERRY_PLAN_HASH", ""), inputs.plan_hash) or selection_refusal(
        share.mappings, os.environ.get("FERRY_SELECTION_HASH", "")
    )
    if refusal is not None:
        reporter.report_final(snapshot(WorkerState.FAILED, refusal))
        log.error("worker refused", reason=refusal)
        return 1

    control = CopyControl(reporter, snapshot, guard=share.job.guard)
    try:
        reporter.report(snapshot(WorkerState.RUNNING))
    except Exception as exc:  # best effort: the heartbeat repeats it
        log.warning("first progress report failed; the heartbeat repeats it", error=first_line(exc))
    results = asyncio.run(copy_units(share, tracker, control))
    if results.ok:
        reporter.report_final(snapshot(WorkerState.DONE))
        log.info("worker done", rows=results.rows_copied)
        return 0
    if results.failed:
        failure = results.failed[0]
        reporter.report_final(snapshot(WorkerState.FAILED, f"{failure.table}: {failure.error}"))
        log.error("worker failed", table=failure.table, error=failure.error)
        return 1
    # SIGTERM: the Job was suspended (the usual case) or the pod is being moved. Either way the
    # index is paused, not failed: a later pod resumes from the checkpoints.
    message = "stopped by SIGTERM between batches; the next pod resumes from the checkpoints"
    reporter.report_final(snapshot(WorkerState.SUSPENDED, message))
    log.info("worker stopped", rows=results.rows_copied)
    return EXIT_SIGTERM


def session_counts(sessions: SessionLedger) -> WorkerSessions:
    return WorkerSessions(
        source=sessions.open_sessions("source"),
        target=sessions.open_sessions("target"),
        source_reconnects=sessions.reconnects("source"),
        target_reconnects=sessions.reconnects("target"),
    )


def plan_refusal(job_plan: str, current_plan: str) -> str | None:
    """Why this worker must not write: its Job was created for another plan than the Migration's
    current one (the Migration was planned again, and maybe approved again, since). A Job left
    over from an earlier plan, or one made by hand, must not copy under a plan nobody approved.
    None when they match, or when the Job names no plan (one created before plans were hashed)."""
    if not job_plan or job_plan == current_plan:
        return None
    now = current_plan[:12] or "none"
    return (
        f"this Job was created for plan {job_plan[:12]}, but the Migration's plan is now {now} "
        "(planned again since); nothing was copied by this worker"
    )


def selection_refusal(mappings: Sequence[TableMapping], approved: str) -> str | None:
    """Why this worker must not copy: the tables, columns, filters or transforms it derives from
    the live spec are not the ones whose plan was approved (the spec changed while the Job ran).
    None when they match, or when the Job names no selection (one created before it was recorded)."""
    if not approved:
        return None
    mine = selection_hash(mappings)
    if mine == approved:
        return None
    return (
        f"the Migration's tables, columns, filters or transforms changed after its plan was approved "
        f"(now {mine[:12]}, approved {approved[:12]}); nothing was copied by this worker"
    )


async def copy_units(share: CopyShare, tracker: ProgressTracker, control: CopyControl) -> UnitResults:
    """Run the units with the control's hook and heartbeat; SIGTERM stops them between batches.

    The SIGTERM handler is the loop's own while the units run (a flag, so the batches in flight
    commit); before and after, `main`'s handler exits at once (nothing uncommitted is lost).
    """
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, control.stop)
    finished = asyncio.Event()
    heartbeat = asyncio.create_task(control.heartbeat(finished))
    try:

        def progress(event: ProgressEvent) -> None:
            control.progressed(event.unit_id)
            tracker.update(event)

        return await share.run(progress=progress, should_stop=control.should_stop, on_outage=control.outage)
    finally:
        finished.set()
        await heartbeat
        loop.remove_signal_handler(signal.SIGTERM)
        exit_on_sigterm()


def main() -> int:
    configure_logging()
    exit_on_sigterm()
    return run_worker(WorkerEnv.from_environ())
