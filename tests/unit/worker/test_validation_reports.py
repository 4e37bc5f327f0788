"""A validation pod's reports: its share at once, its first stored range at once, then paced;
a failed patch never fails the validation."""

from __future__ import annotations

import asyncio
import time
from typing import Any, cast

from ferry.api.migration_validation import ValidationWorkerStatus
from ferry.services.validation import ShareProgress
from ferry.worker.reporter import StatusReporter
from ferry.worker.validate import ShareReports


class Recorder:
    def __init__(self, fail: bool = False) -> None:
        self.sent: list[ValidationWorkerStatus] = []
        self.fail = fail

    def report_validation(self, status: ValidationWorkerStatus) -> None:
        if self.fail:
            raise ConnectionError("apiserver unavailable")
        self.sent.append(status)


def _reports(recorder: Recorder, interval: float) -> ShareReports:
    return ShareReports(cast(StatusReporter, cast(Any, recorder)), run=2, interval=interval)


async def _feed(reports: ShareReports, steps: int) -> None:
    progress = ShareProgress(ranges_total=9, share=5)
    await reports(progress)
    for _ in range(steps):
        progress.done, progress.rows = progress.done + 1, progress.rows + 20_000
        await reports(progress)


def test_the_share_and_the_first_range_are_reported_at_once_then_at_most_one_per_interval() -> None:
    recorder = Recorder()
    reports = _reports(recorder, interval=3600)
    asyncio.run(_feed(reports, 5))
    assert [(s.ranges_done, s.ranges_share, s.ranges_total, s.rows_compared) for s in recorder.sent] == [
        (0, 5, 9, 0),
        (1, 5, 9, 20_000),
    ]  # a watcher sees 0 < done < share whatever the table's speed
    assert all(s.run == 2 and s.state == "running" for s in recorder.sent)
    # The last known counts stand for the final report (done, or failed with the error).
    final = reports.entry("failed", "OperationalError: server closed the connection")
    assert (final.state, final.ranges_done, final.rows_compared) == ("failed", 5, 100_000)


def test_without_pacing_every_stored_range_is_reported() -> None:
    recorder = Recorder()
    asyncio.run(_feed(_reports(recorder, interval=0), 3))
    assert [s.ranges_done for s in recorder.sent] == [0, 1, 2, 3]


def test_a_failed_report_is_logged_and_the_validation_goes_on() -> None:
    reports = _reports(Recorder(fail=True), interval=0)
    asyncio.run(_feed(reports, 2))  # raises nothing
    assert reports.entry().ranges_done == 2


def test_the_heartbeat_reports_while_no_range_ends_and_stops_before_the_block_returns() -> None:
    recorder = Recorder()
    reports = _reports(recorder, interval=3600)
    asyncio.run(_feed(reports, 1))  # the share and the first range: two reports
    reports._sent_at = 0.0  # long ago: the next beat is due at once
    with reports.heartbeat(every=0.2):
        deadline = time.monotonic() + 10
        while len(recorder.sent) < 4 and time.monotonic() < deadline:
            time.sleep(0.02)
    beats = len(recorder.sent)
    assert beats >= 4, beats
    assert all(s.state == "running" and s.ranges_done == 1 for s in recorder.sent[2:])
    time.sleep(0.5)  # the thread was joined: nothing more arrives after the block
    assert len(recorder.sent) == beats


def test_each_report_carries_the_pods_cpu_time_which_only_grows() -> None:
    reports = _reports(Recorder(), interval=0)
    first = reports.entry().cpu_seconds
    deadline = time.process_time() + 0.05
    while time.process_time() < deadline:  # burn a little CPU in this process
        sum(range(1000))
    later = reports.entry("done")
    assert first > 0 and later.cpu_seconds >= first + 0.04
