"""The validation Job's pod: compare this index's share of the key ranges and store the results.

It reads its Migration and the two connections like a copy worker (ferry.worker.setup), takes
every `count`-th key range (ferry.copy.validate_ranges), skips the ranges a failed pod of the
same run already stored, and stores each result on the target (ferry.copy.validation_store),
where the operator reads them when the Job is complete. With spec.validation.repair a range
that differs is copied again and compared again (ferry.copy.repair).

Like a copy worker it reports to the Migration's status, in its own entry
`status.validationWorkers.<index>` (the operator sums them into `status.validation`, and their
CPU time into `status.usage`): its share
once planned, after its first stored range, then at most every REPORT_INTERVAL_SECONDS (and every
HEARTBEAT_SECONDS while no range ends), each with the database sessions it holds, and a
last report saying done, or failed with the error's class and first line (redacted, no row
values), which the operator names when the Job fails. The pod reports rather than the operator
polling the results table: the operator then holds no database session while the Job runs
(a connection budget, maxConnections, is sized for the pods alone), and one API patch every few
seconds per pod costs less than a query per Migration per tick.

Exit code 0 when its share is stored, 1 when it failed (the Job controller retries the index up
to backoffLimit), 143 on SIGTERM (nothing half-stored: a range's result is one transaction).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
import time
from collections.abc import Iterator

from ferry.api.migration_validation import ValidationWorkerState, ValidationWorkerStatus
from ferry.copy.sessions import SessionLedger
from ferry.observability.errors import describe, first_line
from ferry.observability.logging import configure_logging, get_logger
from ferry.services.validation import ShareProgress, validate_share
from ferry.worker.main import plan_refusal, session_counts
from ferry.worker.reporter import StatusReporter
from ferry.worker.setup import WorkerEnv, exit_on_sigterm, load_inputs

REPORT_INTERVAL_SECONDS = 2.0
# A pod comparing one long range reports nothing new for a while; it still says it is alive
# (and what sessions it holds) this often, well inside the operator's freshness window for
# counting sessions (ferry.observability.worker_sessions.FRESH_SECONDS).
HEARTBEAT_SECONDS = 10.0

log = get_logger("ferry.worker.validate")


class ShareReports:
    """The pod's progress reports: paced, best effort (a failed patch is logged; the next one
    carries everything again), sent from a thread so the other ranges in flight go on."""

    def __init__(self, reporter: StatusReporter, run: int, interval: float = REPORT_INTERVAL_SECONDS) -> None:
        self.reporter, self.run, self.interval = reporter, run, interval
        self.sessions = SessionLedger()  # what the pod holds open: status, then metrics
        self.last = ShareProgress(0, 0)
        self._sent = 0
        self._sent_at = 0.0

    def entry(
        self, state: ValidationWorkerState = "running", message: str | None = None
    ) -> ValidationWorkerStatus:
        p = self.last
        return ValidationWorkerStatus(
            run=self.run, state=state, ranges_total=p.ranges_total, ranges_share=p.share,
            ranges_done=p.done, rows_compared=p.rows, message=message,
            cpu_seconds=round(time.process_time(), 2),  # this process: user + system, as copy workers
            sessions=session_counts(self.sessions), pod=os.environ.get("FERRY_POD_NAME"),
        )  # fmt: skip

    @contextlib.contextmanager
    def heartbeat(self, every: float = HEARTBEAT_SECONDS) -> Iterator[None]:
        """While the block runs, a report whenever none was sent for `every` seconds. It stops
        (joined) before the block's end returns, so it never lands after the final report."""
        stop = threading.Event()

        def beat() -> None:
            while not stop.wait(every / 4):
                if time.monotonic() - self._sent_at < every:
                    continue
                self._sent_at = time.monotonic()
                try:
                    self.reporter.report_validation(self.entry())
                except Exception as exc:
                    log.warning("validation heartbeat failed; the next one repeats it", error=first_line(exc))

        thread = threading.Thread(target=beat, name="validation-heartbeat", daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()

    async def __call__(self, progress: ShareProgress) -> None:
        self.last = ShareProgress(progress.ranges_total, progress.share, progress.done, progress.rows)
        # The plan and the first stored range always (a watcher sees the share start to move),
        # then at most one patch per interval; the final report follows in any case.
        if self._sent >= 2 and time.monotonic() - self._sent_at < self.interval:
            return
        self._sent, self._sent_at = self._sent + 1, time.monotonic()
        try:
            await asyncio.to_thread(self.reporter.report_validation, self.entry())
        except Exception as exc:
            log.warning("validation progress report failed; the next one repeats it", error=first_line(exc))


def run_validation(env: WorkerEnv, run: int) -> int:
    bound = log.bind(migration=env.name, namespace=env.namespace, index=env.index)
    inputs = load_inputs(env)
    reports = ShareReports(StatusReporter(inputs.api, env.namespace, env.name, env.index), run)
    refusal = plan_refusal(os.environ.get("FERRY_PLAN_HASH", ""), inputs.plan_hash)
    if refusal is not None:
        bound.error("validation refused", reason=refusal)
        reports.reporter.report_final(reports.entry("failed", refusal))
        return 1
    # A range in flight holds one connection per side; two at once unless a side has a
    # connection budget (maxConnections), whose share for this pod fits one (the operator sized
    # the Job as it sized the copy's).
    capped = inputs.source.spec.max_connections or inputs.target.spec.max_connections
    try:
        with reports.heartbeat():
            compared, share = validate_share(
                inputs.spec, inputs.source, inputs.target, migration_uid=env.uid, run=run,
                index=env.index, count=env.count, secrets=inputs.secrets, concurrency=1 if capped else 2,
                on_progress=reports, sessions=reports.sessions,
            )  # fmt: skip
    except Exception as exc:
        bound.error("validation failed", error=first_line(exc))
        reports.reporter.report_final(reports.entry("failed", describe(exc)))
        return 1
    reports.reporter.report_final(reports.entry("done"))
    bound.info("validation share stored", run=run, ranges=share, compared_now=compared)
    return 0


def main() -> int:
    configure_logging()
    exit_on_sigterm()
    return run_validation(WorkerEnv.from_environ(), int(os.environ.get("FERRY_VALIDATION_RUN", "1")))
