"""copy.throttle.guard as the Migration shows it: a worker held by the guard reports `throttled`
with the reason, and the operator shows Reconciling reason ThrottledByGuard until it copies again."""

from __future__ import annotations

from ferry.api import conditions as c
from ferry.api.migration import Phase, WorkerState, WorkerStatus
from ferry.copy.guard import BatchGuard
from ferry.services.migration import MigrationReconciler
from ferry.worker.control import CopyControl
from unit.services.fake_ports import FakePorts, context


def test_a_throttled_worker_shows_throttled_by_guard_and_its_end_shows_running() -> None:
    ports, ctx = FakePorts(), context()
    MigrationReconciler(ports).reconcile(ctx)
    assert ctx.status.phase == Phase.RUNNING
    held = "copy.throttle.guard: 120 is above the threshold 30; no new batches"
    ctx.status.workers = {"0": WorkerStatus(state=WorkerState.THROTTLED, message=held)}
    out = MigrationReconciler(ports).reconcile(ctx)
    cond = ctx.status.condition(c.RECONCILING)
    assert ctx.status.phase == Phase.RUNNING
    assert cond is not None and (cond.status, cond.reason, cond.message) == (
        "True",
        c.THROTTLED_BY_GUARD,
        held,
    )
    assert [(e.type, e.reason) for e in out.events] == [("Normal", c.THROTTLED_BY_GUARD)]
    assert MigrationReconciler(ports).reconcile(ctx).events == []  # said once

    ctx.status.workers["0"] = WorkerStatus(state=WorkerState.RUNNING, rows_copied=10)
    MigrationReconciler(ports).reconcile(ctx)
    cond = ctx.status.condition(c.RECONCILING)
    assert cond is not None and cond.reason == c.RUNNING and "guard" in cond.message


class _Reporter:
    def __init__(self) -> None:
        self.reports: list[WorkerStatus] = []

    def report(self, status: WorkerStatus) -> None:
        self.reports.append(status)

    def suspended(self) -> bool:
        return False


async def test_the_worker_reports_throttled_with_the_guards_reason() -> None:
    async def high() -> float:
        return 120.0

    guard = BatchGuard(high, threshold=30.0, interval=60.0)
    reporter = _Reporter()
    control = CopyControl(reporter, lambda state: WorkerStatus(state=state), guard=guard)
    await control.report()
    first = reporter.reports[-1]
    await guard._refresh()  # what a unit does at its batch boundary
    await control.report()
    assert first.state == WorkerState.RUNNING and reporter.reports[-1].state == WorkerState.THROTTLED
    assert (
        reporter.reports[-1].message == "copy.throttle.guard: 120 is above the threshold 30; no new batches"
    )
