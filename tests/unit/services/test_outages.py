"""A database or the API server going away: what the operator shows, what the worker retries."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
import urllib3
from kubernetes.client.exceptions import ApiException

from ferry.api import conditions as c
from ferry.api.migration import Phase, WorkerState, WorkerStatus
from ferry.db.outage import connection_lost, says_connection_lost
from ferry.kube.retry import call_with_backoff
from ferry.services.migration import MigrationReconciler
from ferry.services.migration_ports import JobState, MigrationContext
from ferry.worker.control import CopyControl
from unit.services.fake_ports import FakePorts, context


def _running() -> tuple[FakePorts, MigrationContext]:
    ports, ctx = FakePorts(), context()
    MigrationReconciler(ports).reconcile(ctx)
    assert ctx.status.phase == Phase.RUNNING
    return ports, ctx


def _reconciling(ctx: MigrationContext) -> tuple[str, str, str]:
    cond = ctx.status.condition(c.RECONCILING)
    assert cond is not None
    return cond.status, cond.reason, cond.message


# -- the operator --------------------------------------------------------------------------------


def test_a_worker_reconnecting_shows_database_unavailable_and_its_end_shows_running() -> None:
    ports, ctx = _running()
    ctx.status.workers = {
        "0": WorkerStatus(state=WorkerState.RECONNECTING, message="database unavailable: connection refused"),
        "1": WorkerStatus(state=WorkerState.RUNNING),
    }
    out = MigrationReconciler(ports).reconcile(ctx)
    assert ctx.status.phase == Phase.RUNNING
    assert _reconciling(ctx) == ("True", c.DATABASE_UNAVAILABLE, "database unavailable: connection refused")
    assert [(e.type, e.reason) for e in out.events] == [("Warning", c.DATABASE_UNAVAILABLE)]
    assert MigrationReconciler(ports).reconcile(ctx).events == []  # said once, not every tick

    ctx.status.workers["0"] = WorkerStatus(state=WorkerState.RUNNING, rows_copied=10)
    MigrationReconciler(ports).reconcile(ctx)
    assert ctx.status.phase == Phase.RUNNING
    assert _reconciling(ctx)[:2] == ("True", c.RUNNING)
    assert ports.created_jobs[1:] == []  # the same Job goes on: no attempt was spent


def test_an_attempt_lost_to_a_database_outage_is_retried_with_that_reason() -> None:
    ports, ctx = _running()
    ctx.status.workers = {
        "0": WorkerStatus(state=WorkerState.FAILED, message="public.t: connection refused (127.0.0.1:5432)")
    }
    ports.job = JobState.FAILED
    out = MigrationReconciler(ports).reconcile(ctx)
    assert ctx.status.phase == Phase.RUNNING and ctx.status.attempts == 2
    assert _reconciling(ctx)[:2] == ("True", c.DATABASE_UNAVAILABLE)
    assert [(e.type, e.reason) for e in out.events] == [("Warning", c.DATABASE_UNAVAILABLE)]


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError(111, "Connection refused"),
        OSError("server closed the connection unexpectedly"),
        RuntimeError("FATAL: terminating connection due to administrator command"),
        RuntimeError("(2013, 'Lost connection to MySQL server during query')"),
        asyncpg.exceptions.InternalClientError(
            "cannot switch to state 15; another operation (2) is in progress"
        ),
    ],
)
def test_database_outages_are_told_apart_from_other_errors(error: Exception) -> None:
    assert connection_lost(error)


def test_a_workers_failure_message_that_says_the_connection_was_lost_counts() -> None:
    assert says_connection_lost("public.t: ConnectionRefusedError: [Errno 111] Connect call failed")
    assert says_connection_lost("public.t: terminating connection due to administrator command")


def test_a_row_error_is_not_an_outage() -> None:
    error = RuntimeError('duplicate key value violates unique constraint "t_pkey"')
    assert not connection_lost(error) and not says_connection_lost(str(error))


# -- the worker ------------------------------------------------------------------------------------


class _Clock:
    def __init__(self) -> None:
        self.now, self.sleeps = 0.0, []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_an_api_call_is_retried_with_backoff_through_an_outage() -> None:
    clock, calls = _Clock(), []

    def call() -> str:
        calls.append(clock.now)
        if len(calls) < 5:
            raise urllib3.exceptions.MaxRetryError(None, "/apis", "connection refused")  # type: ignore[arg-type]
        return "read"

    assert (
        call_with_backoff(call, what="read", give_up_after=60, sleep=clock.sleep, clock=lambda: clock.now)
        == "read"
    )
    assert clock.sleeps == [1, 2, 4, 8]


def test_an_api_outage_longer_than_the_bound_raises_and_an_answer_is_never_retried() -> None:
    clock = _Clock()

    def down() -> None:
        raise ApiException(status=503)

    with pytest.raises(ApiException):
        call_with_backoff(down, what="read", give_up_after=30, sleep=clock.sleep, clock=lambda: clock.now)
    assert sum(clock.sleeps) <= 30 and clock.sleeps[-1] == 15

    def forbidden() -> None:
        raise ApiException(status=403)

    clock.sleeps.clear()
    with pytest.raises(ApiException):
        call_with_backoff(
            forbidden, what="read", give_up_after=30, sleep=clock.sleep, clock=lambda: clock.now
        )
    assert clock.sleeps == []


class _Reporter:
    def __init__(self) -> None:
        self.reports: list[WorkerStatus] = []

    def report(self, status: WorkerStatus) -> None:
        self.reports.append(status)

    def suspended(self) -> bool:
        return False


async def test_a_worker_waiting_for_its_database_reports_reconnecting_until_the_unit_moves() -> None:
    reporter = _Reporter()
    control = CopyControl(reporter, lambda state: WorkerStatus(state=state))
    control.outage("t#0", "connection refused", 2.0)
    await control.report()
    assert reporter.reports[-1].state == WorkerState.RECONNECTING
    assert (
        reporter.reports[-1].message
        == "database unavailable: connection refused; reconnecting (next try in 2s)"
    )
    control.progressed("t#0")
    await control.report()
    assert reporter.reports[-1].state == WorkerState.RUNNING and reporter.reports[-1].message is None
    assert not await asyncio.wait_for(control.should_stop(), 1)
