"""Maintenance windows in the reconciler: a copy starts only inside one, is suspended when it
closes (reason OutsideWindow) and resumes by itself when the next opens."""

from __future__ import annotations

from datetime import UTC, datetime

from ferry.api import conditions as c
from ferry.api.migration import Phase
from ferry.services.migration import MigrationReconciler
from unit.services.fake_ports import FakePorts, context, spec

NIGHTLY = {"windows": [{"start": "0 22 * * *", "duration": "6h"}]}


def _ready_reason(ctx: object) -> str | None:
    ready = ctx.status.condition(c.READY)  # type: ignore[attr-defined]
    return ready.reason if ready else None


def test_planned_outside_the_windows_starts_when_one_opens() -> None:
    ports = FakePorts(clock=datetime(2026, 11, 30, 12, 0, tzinfo=UTC))
    ctx = context(spec(schedule=NIGHTLY))
    MigrationReconciler(ports).reconcile(ctx)
    assert ctx.status.phase == Phase.PENDING and _ready_reason(ctx) == c.OUTSIDE_WINDOW
    assert "opens, at 2026-11-30T22:00:00Z" in (ctx.status.message or "")
    assert ports.created_jobs == []

    ports.clock = datetime(2026, 11, 30, 22, 1, tzinfo=UTC)
    MigrationReconciler(ports).reconcile(ctx)
    assert ctx.status.phase == Phase.RUNNING and len(ports.created_jobs) == 1


def test_a_closing_window_suspends_the_copy_and_the_next_resumes_it() -> None:
    ports = FakePorts(clock=datetime(2026, 11, 30, 23, 0, tzinfo=UTC))
    ctx = context(spec(schedule=NIGHTLY))
    MigrationReconciler(ports).reconcile(ctx)
    assert ctx.status.phase == Phase.RUNNING

    ports.clock = datetime(2026, 12, 1, 4, 0, tzinfo=UTC)  # the window closed
    MigrationReconciler(ports).reconcile(ctx)
    assert ctx.status.phase == Phase.SUSPENDED and _ready_reason(ctx) == c.OUTSIDE_WINDOW
    assert "resumes at 2026-12-01T22:00:00Z" in (ctx.status.message or "")
    assert ("suspend", "shop-1") in ports.calls

    MigrationReconciler(ports).reconcile(ctx)  # still outside: nothing more
    assert ports.calls.count(("suspend", "shop-1")) == 1

    ports.clock = datetime(2026, 12, 1, 22, 0, tzinfo=UTC)
    MigrationReconciler(ports).reconcile(ctx)
    assert ctx.status.phase == Phase.RUNNING and ("resume", "shop-1") in ports.calls


def test_a_window_that_cannot_be_evaluated_stalls_with_the_field() -> None:
    ports = FakePorts()
    ctx = context(
        spec(schedule={"windows": [{"start": "0 2 * * *", "duration": "1h", "timeZone": "Mars/Base"}]})
    )
    MigrationReconciler(ports).reconcile(ctx)
    assert _ready_reason(ctx) == c.INVALID_SPEC
    assert (ctx.status.message or "").startswith("spec.schedule.windows: time zone 'Mars/Base'")
