"""The worker's `should_stop` hook (ferry.worker.control) around the copy runner: waiting while
spec.suspend is set never blocks the event loop the units share, and SIGTERM stops.

(The runner side, with real databases: tests/integration/copy/test_copy_stop.py.)
"""

from __future__ import annotations

import asyncio
import threading

from ferry.api.migration import WorkerStatus
from ferry.worker.control import CopyControl

SAFETY_POLLS = 200  # the fake lifts the suspension by itself after this many reads


class FakeReporter:
    """spec.suspend as a flag; reports recorded. Called from threads, as StatusReporter is."""

    def __init__(self, suspended: bool, fail_reports: int = 0) -> None:
        self.suspend = suspended
        self.reads = 0
        self.reports: list[str] = []
        self.fail_reports = fail_reports
        self._lock = threading.Lock()

    def suspended(self) -> bool:
        with self._lock:
            self.reads += 1
            return self.suspend and self.reads < SAFETY_POLLS

    def report(self, status: WorkerStatus) -> None:
        with self._lock:
            if self.fail_reports:
                self.fail_reports -= 1
                raise ConnectionError("")  # an empty message, as some client errors have
            self.reports.append(status.state)


def _control(
    reporter: FakeReporter, suspend_poll: float = 0.005, report_interval: float = 2.0
) -> CopyControl:
    return CopyControl(
        reporter,
        lambda state: WorkerStatus(state=state),
        suspend_poll=suspend_poll,
        report_interval=report_interval,
    )


async def test_a_suspended_wait_lets_another_coroutine_in_the_loop_progress() -> None:
    reporter = FakeReporter(suspended=True)
    control = _control(reporter)
    steps = 0

    async def other_unit() -> None:  # stands for another unit's batch streaming meanwhile
        nonlocal steps
        for _ in range(20):
            steps += 1
            await asyncio.sleep(0.002)
        reporter.suspend = False  # spec.suspend: false again

    async def waiting_unit() -> tuple[bool, int]:
        stop = await control.should_stop()
        return stop, steps

    waiting = asyncio.create_task(waiting_unit())

    async def suspended() -> None:
        while not control.suspended:
            await asyncio.sleep(0.001)

    await asyncio.wait_for(suspended(), timeout=5)  # the waiting unit is inside its wait
    assert control.state == "suspended"
    await other_unit()
    stop, steps_when_resumed = await asyncio.wait_for(waiting, timeout=5)

    assert stop is False  # resumed: the unit starts its next batch
    assert steps_when_resumed == 20  # the other coroutine ran all its steps during the wait
    assert reporter.reads < SAFETY_POLLS  # it was the other coroutine, not the fake, that lifted it
    assert reporter.reports[:1] == ["suspended"] and not control.suspended


async def test_sigterm_ends_a_suspended_wait_and_stops_the_unit() -> None:
    reporter = FakeReporter(suspended=True)
    control = _control(reporter, suspend_poll=60.0)  # only the stop wakes it within the test
    waiting = asyncio.create_task(control.should_stop())
    await asyncio.sleep(0.01)
    assert not waiting.done()

    control.stop()

    assert await asyncio.wait_for(waiting, timeout=1) is True
    assert await control.should_stop() is True  # and every later boundary: no new batch starts


async def test_not_suspended_goes_on_without_a_report() -> None:
    reporter = FakeReporter(suspended=False)
    control = _control(reporter)
    assert await control.should_stop() is False
    assert reporter.reports == [] and control.state == "running"


async def test_heartbeat_reports_until_finished_and_survives_a_failed_report() -> None:
    reporter = FakeReporter(suspended=False, fail_reports=1)
    control = _control(reporter, report_interval=0.01)
    finished = asyncio.Event()
    beat = asyncio.create_task(control.heartbeat(finished))
    await asyncio.sleep(0.1)
    finished.set()
    await asyncio.wait_for(beat, timeout=1)
    count = len(reporter.reports)
    await asyncio.sleep(0.05)

    assert count >= 2 and set(reporter.reports) == {"running"}  # the failed one was logged, not raised
    assert len(reporter.reports) == count  # nothing lands after the heartbeat returned
