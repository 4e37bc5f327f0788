"""The worker's hold on a running copy: when it waits, when it stops, and its progress reports.

Everything here runs inside the event loop that copies the units, so nothing here may block
it: a blocking call stalls every unit's in-flight batch at once. The Kubernetes calls (the
suspend read and the status patch, both blocking client calls) go through `asyncio.to_thread`;
waits are awaited.

- `spec.suspend` (read at most every 2 s): a unit reaching a batch boundary waits there,
  starting no new batch, while the other units finish the batches they are in; the worker
  reports `suspended`. The operator then suspends the Job, which ends the pod with SIGTERM;
  if the spec is resumed before that, the units go on.
- a database that went away: the runner copies the unit again from its checkpoint with backoff
  (ferry.copy.runner) and tells `outage`; until that unit makes progress again the worker
  reports `reconnecting` with the error, which the operator shows as `DatabaseUnavailable`.
- copy.throttle.guard (ferry.copy.guard): units wait at their batch boundary while the metric
  is above its threshold; the worker reports `throttled` with the value, which the operator shows
  as `Reconciling` reason `ThrottledByGuard`.
- SIGTERM (Job suspended or deleted, node drained): `should_stop` answers True from then on,
  so each unit stops at its next batch boundary and its committed checkpoint stands; batches
  in flight still commit, within the pod's termination grace period (30 s by default; a
  SIGKILL after it rolls the open batch back with its connection, which loses nothing).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from typing import Protocol

from ferry.api.migration import WorkerState, WorkerStatus
from ferry.copy.guard import BatchGuard
from ferry.observability.errors import first_line
from ferry.observability.logging import get_logger

REPORT_INTERVAL_SECONDS = 2.0  # one status patch per worker per interval
SUSPEND_POLL_SECONDS = 1.0  # a waiting unit re-checks spec.suspend (the read itself is cached 2 s)

log = get_logger("ferry.worker")


class Reporter(Protocol):
    """The worker's two Kubernetes calls (`StatusReporter`); both block, both are thread-safe."""

    def report(self, status: WorkerStatus) -> None: ...

    def suspended(self) -> bool: ...


class CopyControl:
    """The `should_stop` hook and the heartbeat of one worker's copy.

    `snapshot(state)` builds the status to report from the progress so far; it is called in
    the event loop only (the progress tracker is not shared with threads).
    """

    def __init__(
        self,
        reporter: Reporter,
        snapshot: Callable[[WorkerState], WorkerStatus],
        *,
        report_interval: float = REPORT_INTERVAL_SECONDS,
        suspend_poll: float = SUSPEND_POLL_SECONDS,
        guard: BatchGuard | None = None,
    ) -> None:
        self._reporter = reporter
        self._snapshot = snapshot
        self._report_interval = report_interval
        self._suspend_poll = suspend_poll
        self._guard = guard  # copy.throttle.guard: its pause is reported as `throttled`
        self._stopping = asyncio.Event()
        self.suspended = False  # spec.suspend as last read by a waiting unit
        self.reconnecting: dict[str, str] = {}  # unit id -> why it waits for its database

    @property
    def stopping(self) -> bool:
        return self._stopping.is_set()

    @property
    def state(self) -> WorkerState:
        if self.suspended:
            return WorkerState.SUSPENDED
        if self._guard is not None and self._guard.paused and not self.reconnecting:
            return WorkerState.THROTTLED
        return WorkerState.RECONNECTING if self.reconnecting else WorkerState.RUNNING

    def outage(self, unit_id: str, error: str, delay: float) -> None:
        """The runner's `on_outage`: a unit lost its database and tries again in `delay` s."""
        self.reconnecting[unit_id] = (
            f"database unavailable: {first_line(error)}; reconnecting (next try in {delay:g}s)"
        )
        log.warning("database unavailable; reconnecting", unit=unit_id, error=first_line(error), in_s=delay)

    def progressed(self, unit_id: str) -> None:
        """A unit reported progress: its database is back, if it was gone."""
        if self.reconnecting.pop(unit_id, None) is not None:
            log.info("database reachable again", unit=unit_id)

    def stop(self) -> None:
        """SIGTERM: no unit starts another batch; waiting units stop waiting."""
        self._stopping.set()

    async def should_stop(self) -> bool:
        """The copy runner's hook, awaited between batches: waits while suspended, then True
        only once the pod is being stopped (SIGTERM). Suspension alone never answers True:
        the pod waits for the Job to be suspended, or for the spec to be resumed."""
        await self.wait_while_suspended()
        return self.stopping

    async def wait_while_suspended(self) -> None:
        """Return once `spec.suspend` is off or SIGTERM came; meanwhile report `suspended` and
        sleep without blocking the loop, so the other units' batches keep streaming."""
        while not self.stopping and await self._read_suspended():
            if not self.suspended:
                self.suspended = True
                await self.report()  # at once; the heartbeat repeats it
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self._suspend_poll)
        self.suspended = False

    async def heartbeat(self, finished: asyncio.Event) -> None:
        """Report every `report_interval` until `finished` is set. One task, one report at a
        time, so the reports land in order and none lands after the caller's final one."""
        while not finished.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(finished.wait(), self._report_interval)
                return
            await self.report()

    async def report(self) -> None:
        """Patch this worker's status in a thread. A failed patch is logged, not raised: it is
        progress only, and the next one (2 s later) carries everything again."""
        status = self._snapshot(self.state)
        if self.reconnecting and status.message is None:
            status = status.model_copy(update={"message": sorted(self.reconnecting.values())[0]})
        elif status.state == WorkerState.THROTTLED and self._guard is not None and status.message is None:
            status = status.model_copy(update={"message": self._guard.reason})
        try:
            await asyncio.to_thread(self._reporter.report, status)
        except Exception as exc:
            log.warning("progress report failed; retrying with the next one", error=first_line(exc))

    async def _read_suspended(self) -> bool:
        """spec.suspend, read in a thread; on a failed read the last known value holds (and
        the next boundary reads again) rather than failing a unit over a status poll."""
        try:
            return await asyncio.to_thread(self._reporter.suspended)
        except Exception as exc:
            log.warning("reading spec.suspend failed; keeping the last value", error=first_line(exc))
            return self.suspended
