"""The follower pod of an online Migration (`ferry worker --follow`): apply the source's changes
to the target until the cutover, and mirror how far it got into `status.replication`.

Same identity and inputs as a copy worker (ferry.worker.setup): its Migration and connections
read with its ServiceAccount token, credentials from FERRY_SECRET_* env vars. It writes only
`status.replication` (a merge patch of the keys it owns, at most every 2 s, and once at the end),
its process's CPU time (`cpuSeconds`) among them, which the operator adds to `status.usage`.

It keeps a session ledger (ferry.copy.sessions) of what it holds for as long as it follows: the
change stream on the source (with MariaDB/MySQL, the binlog reader's stream and control
connections and the follower's own control connection), Ferry's applier session to the target,
and native apply's connections to both. Each report carries their count (`sessions`), which the
operator turns into `ferry_connection_sessions` while the Migration follows. Short bookkeeping
sessions (SQLAlchemy, `engine_for`: the start record read at startup, the source position taken
at the cutover, the freeze) are not counted. Reconnects: only the MariaDB/MySQL capture opens a
lost session again (the binlog library reopens its stream, the control connection is retried
once); any other lost session fails the pod, and the Job retries it from the stored position.

Exit codes, which the operator and the Job read:
- 0: the cutover position is applied (`replication.state: CutOver`); the Job completes.
- 1: an error; `replication.state: Failed` and the message. The Job controller retries the pod up
  to backoffLimit; every pod resumes from the position stored on the target.
- 3 (EXIT_SOURCE_SCHEMA_CHANGED): a followed source table changed structure;
  `replication.state: SourceSchemaChanged`, the message names the table and the change. The
  Job's pod failure policy fails it at once and the operator stalls the Migration.
- 4 (EXIT_NATIVE_APPLY_UNAVAILABLE): `spec.online.apply: native` cannot run (the message says
  why: not eligible, the target may not create subscriptions or cannot reach the source); the
  Job fails at once and the operator stalls the Migration, like 3.
- 143: SIGTERM (the Job was suspended, the pod evicted): stopped between batches, nothing
  uncommitted is lost; `replication.state: Stopped`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from kubernetes import client

from ferry.api.base import now_rfc3339
from ferry.api.kinds import MIGRATION
from ferry.api.migration import ReplicationState, ReplicationStatus
from ferry.cdc import bookkeeping
from ferry.cdc.apply_pg import source_dialect
from ferry.cdc.capture import source_position
from ferry.cdc.changes import SourceSchemaChanged
from ferry.cdc.follower import FollowOutcome, FollowResult
from ferry.cdc.freeze import freeze_source
from ferry.cdc.native_apply import NativeApplyUnavailable
from ferry.cdc.online_follow import follow_online
from ferry.cdc.progress import ReplicationProgress
from ferry.copy.endpoints import PgEndpoint
from ferry.copy.sessions import SessionLedger
from ferry.kube.status import patch_status
from ferry.kube.worker_job import EXIT_NATIVE_APPLY_UNAVAILABLE, EXIT_SOURCE_SCHEMA_CHANGED
from ferry.observability.errors import describe, first_line
from ferry.observability.logging import configure_logging, get_logger
from ferry.observability.redaction import redact
from ferry.schema import TableMapping
from ferry.services.endpoints import endpoint_for
from ferry.services.planning import source_mappings
from ferry.worker.main import plan_refusal, selection_refusal, session_counts
from ferry.worker.setup import EXIT_SIGTERM, WorkerEnv, WorkerInputs, exit_on_sigterm, load_inputs

EXIT_CUT_OVER = 0
EXIT_FAILED = 1
REPORT_INTERVAL_SECONDS = 2.0

log = get_logger("ferry.worker.follow")

Report = Callable[[ReplicationProgress], None]
ShouldStop = Callable[[], Awaitable[bool]]


def replication_entry(
    progress: ReplicationProgress | None,
    state: str | None = None,
    message: str | None = None,
    sessions: SessionLedger | None = None,
) -> dict[str, Any]:
    """`status.replication` as the follower writes it: every key it owns, none of the operator's
    (startPosition, healthCheckedAt). `message` is cleared (null) unless given."""
    fields: dict[str, Any] = {
        "message": message,
        "pod": os.environ.get("FERRY_POD_NAME"),
        "cpu_seconds": round(time.process_time(), 2),  # this process: user + system, as copy workers
    }
    if sessions is not None:
        fields["sessions"] = session_counts(sessions)
    if progress is not None:
        fields |= {
            "state": progress.state.value,
            "source_position": progress.source_position,
            "applied_position": progress.applied_position,
            "cutover_position": progress.cutover_position,
            "lag_seconds": None if progress.lag_seconds is None else round(progress.lag_seconds, 3),
            "lag_bytes": progress.lag_bytes,
            "changes_applied": progress.changes_applied,
            "changes_per_second": None
            if progress.changes_per_second is None
            else round(progress.changes_per_second, 1),
            "last_applied_time": progress.last_applied_time,
            "details": dict(progress.details),
            "apply_method": progress.apply_method,
            "apply_method_reason": progress.apply_method_reason,
        }
    if state is not None:
        fields["state"] = state
    status = ReplicationStatus.model_validate({**fields, "updated_at": now_rfc3339()})
    wire = status.model_dump(by_alias=True, mode="json", exclude={"start_position", "health_checked_at"})
    # Cleared (null in the merge patch) rather than left behind from an earlier report: a message,
    # and under native apply the counts PostgreSQL does not keep, and a reason that no longer holds.
    cleared = {"message", "applyMethodReason"}
    if progress is not None and progress.changes_applied is None:
        cleared |= {"changesApplied", "changesPerSecond", "lastAppliedTime"}
    return {key: value for key, value in wire.items() if value is not None or key in cleared}


class ReplicationReporter:
    """Keeps the follower's latest progress and patches it into status.replication: from a
    heartbeat task (the API call runs in a thread, the apply loop never waits on it) and once at
    the end. A failed patch is logged; the next one carries everything again."""

    def __init__(self, api: client.ApiClient, namespace: str, name: str) -> None:
        self.api, self.namespace, self.name = api, namespace, name
        self.sessions = SessionLedger()  # what the follower holds, counted at each report
        self.latest: ReplicationProgress | None = None
        self._sent: ReplicationProgress | None = None

    def __call__(self, progress: ReplicationProgress) -> None:
        """The `report` callback handed to the follower: no I/O, so any thread or loop may call it."""
        self.latest = progress

    def patch(self, entry: dict[str, Any]) -> None:
        patch_status(self.api, MIGRATION, self.namespace, self.name, {"replication": entry})

    async def heartbeat(self, finished: asyncio.Event, interval: float = REPORT_INTERVAL_SECONDS) -> None:
        while not finished.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(finished.wait(), interval)
                return
            latest = self.latest
            if latest is None or latest is self._sent:
                continue
            try:
                await asyncio.to_thread(self.patch, replication_entry(latest, sessions=self.sessions))
                self._sent = latest
            except Exception as exc:
                log.warning("replication report failed; retrying with the next one", error=first_line(exc))

    def final(self, state: str | None = None, message: str | None = None) -> None:
        try:
            self.patch(replication_entry(self.latest, state, message, self.sessions))
        except Exception as exc:  # the exit code still tells the Job, and the operator
            log.warning("final replication report failed", error=first_line(exc))


async def follow_changes(
    inputs: WorkerInputs,
    mappings: Sequence[TableMapping],
    uid: str,
    report: Report,
    should_stop: ShouldStop,
    sessions: SessionLedger | None = None,
) -> FollowResult:
    """The one call into the capture and apply side: follow from the position stored on the target
    with the spec's apply method (ferry.cdc.online_follow) until the cutover position (or a stop),
    keeping the sessions it holds in `sessions`. A changed source table raises
    SourceSchemaChanged; native apply asked for and impossible raises NativeApplyUnavailable."""
    sessions = sessions or SessionLedger()
    if bookkeeping.read(inputs.target, uid) is None:
        raise RuntimeError("no capture is recorded on the target for this Migration; the operator opens it")
    freeze = inputs.spec.cutover.freeze_source

    def before_cutover() -> None:
        log.info("freezing the source before the cutover position", outcome=freeze_source(inputs.source))

    target = sessions.endpoint(endpoint_for(inputs.target), "target")
    assert isinstance(target, PgEndpoint)  # the plan refuses online mode for other targets
    result = await follow_online(
        inputs.source, inputs.target, target, mappings, migration_uid=uid, method=inputs.spec.online.apply,
        source_dialect=source_dialect(inputs.source.dialect), secrets=inputs.secrets,
        source_position=lambda: source_position(inputs.source), report=report, should_stop=should_stop,
        before_cutover=before_cutover if freeze else None, sessions=sessions,
    )  # fmt: skip
    if result.outcome == FollowOutcome.SCHEMA_CHANGED and result.schema_change is not None:
        raise result.schema_change
    return result


async def run_follow(env: WorkerEnv, inputs: WorkerInputs, reporter: ReplicationReporter) -> bool:
    """Follow until the cutover (True) or SIGTERM (False); raises what the follower raised."""
    mappings = source_mappings(inputs.spec, inputs.source, inputs.target)
    refusal = plan_refusal(os.environ.get("FERRY_PLAN_HASH", ""), inputs.plan_hash) or selection_refusal(
        mappings, os.environ.get("FERRY_SELECTION_HASH", "")
    )
    if refusal is not None:
        raise RuntimeError(refusal)
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stopping.set)

    async def should_stop() -> bool:
        return stopping.is_set()

    finished = asyncio.Event()
    heartbeat = asyncio.create_task(reporter.heartbeat(finished))
    try:
        result = await follow_changes(inputs, mappings, env.uid, reporter, should_stop, reporter.sessions)
    finally:
        finished.set()
        await heartbeat
        loop.remove_signal_handler(signal.SIGTERM)
        exit_on_sigterm()
    return result.outcome == FollowOutcome.CUT_OVER


def run_follower(env: WorkerEnv) -> int:
    inputs = load_inputs(env)
    reporter = ReplicationReporter(inputs.api, env.namespace, env.name)
    log.info("follower starting", migration=env.name, namespace=env.namespace)
    try:
        cut_over = asyncio.run(run_follow(env, inputs, reporter))
    except SourceSchemaChanged as exc:
        reporter.final(ReplicationState.SOURCE_SCHEMA_CHANGED, str(exc))
        log.error("source schema changed", table=exc.table, change=exc.change)
        return EXIT_SOURCE_SCHEMA_CHANGED
    except NativeApplyUnavailable as exc:
        message = redact(str(exc))
        reporter.final(ReplicationState.NATIVE_APPLY_UNAVAILABLE, message)
        log.error("native apply unavailable", error=message)
        return EXIT_NATIVE_APPLY_UNAVAILABLE
    except Exception as exc:
        message = redact(first_line(describe(exc)))
        reporter.final(ReplicationState.FAILED, message)
        log.error("follower failed", error=message)
        return EXIT_FAILED
    if not cut_over:
        reporter.final(
            ReplicationState.STOPPED, "stopped by SIGTERM; the next pod resumes from the applied position"
        )
        return EXIT_SIGTERM
    reporter.final(ReplicationState.CUT_OVER)
    log.info("follower reached the cutover position")
    return EXIT_CUT_OVER


def main() -> int:
    configure_logging()
    exit_on_sigterm()
    return run_follower(WorkerEnv.from_environ())
