"""maxConnections: how many pods a copy gets, which budgets no copy fits, which Migration may use a
capped connection, and that units in one process never hold more connections than its share."""

from __future__ import annotations

import asyncio

import pytest

from ferry.api import conditions as c
from ferry.api.connection import DatabaseConnectionSpec
from ferry.api.migration import Phase
from ferry.copy.slots import ConnectionSlots, SlotsTooFew, process_share, source_need
from ferry.services.connection_budget import Claims, ConnectionUse, budget_problem, worker_count
from ferry.services.migration import MigrationReconciler
from unit.services.fake_ports import FakePorts, context


def _conn(engine: str = "postgresql", max_connections: int | None = None) -> DatabaseConnectionSpec:
    return DatabaseConnectionSpec.model_validate(
        {"engine": engine, "host": "h", "database": "d", "credentialsSecretRef": {"name": "c"},
         "maxConnections": max_connections}
    )  # fmt: skip


def test_a_capped_database_gets_as_many_pods_as_fit_one_unit_each() -> None:
    assert worker_count(4, _conn(max_connections=2), _conn()) == 1  # a keyed PostgreSQL unit reads with 2
    assert worker_count(4, _conn(), _conn(max_connections=2)) == 2  # a target unit writes with 1
    assert worker_count(4, _conn(max_connections=20), _conn(max_connections=20)) == 4
    assert worker_count(3, _conn(), _conn()) == 3


def test_a_budget_below_one_unit_is_refused_with_the_number_needed() -> None:
    assert source_need("mariadb", keyed=True) == 3
    problem = budget_problem(("src", "dst"), _conn("mariadb", 2), _conn())
    assert (
        problem is not None
        and "DatabaseConnection src: maxConnections 2" in problem
        and "set it to 3" in problem
    )
    assert budget_problem(("src", "dst"), _conn(max_connections=2), _conn(max_connections=1)) is None


def test_one_migration_at_a_time_uses_a_capped_connection() -> None:
    now = [0.0]
    claims = Claims(clock=lambda: now[0])
    running = ConnectionUse("first", Phase.RUNNING, ("src", "dst"))
    wait = claims.admit("ns", "second", ["src"], [running])
    assert wait is not None and "Migration first (Running)" in wait.message
    # Two admitted at once: the first admission holds until its status shows it.
    assert claims.admit("ns", "a", ["src"], []) is None
    pending_a = ConnectionUse("a", Phase.PENDING, ("src", "x"))
    wait = claims.admit("ns", "b", ["src"], [pending_a])
    assert wait is not None and "Migration a (admitted)" in wait.message
    # Awaiting approval connects no more: the claim is not held against others.
    awaiting = ConnectionUse("a", Phase.AWAITING_APPROVAL, ("src", "x"))
    assert claims.admit("ns", "b", ["src"], [awaiting]) is None


def test_a_migration_waits_for_a_capped_connection_another_one_uses() -> None:
    ports = FakePorts()
    ports.connections["src"] = _conn(max_connections=4)
    ports.uses = [ConnectionUse("other", Phase.VALIDATING, ("src", "elsewhere"))]
    ctx = context()
    out = MigrationReconciler(ports).reconcile(ctx)
    ready = ctx.status.condition(c.READY)
    assert ctx.status.phase == Phase.PENDING and ports.created_jobs == []
    assert ready is not None and ready.reason == c.WAITING_FOR_CONNECTION_SLOTS
    assert out.requeue_after == 10.0
    ports.uses = [ConnectionUse("other", Phase.SUCCEEDED, ("src", "elsewhere"))]
    MigrationReconciler(ports).reconcile(ctx)
    assert ctx.status.phase.value == "Running"  # the other one ended: this one was admitted


async def test_units_never_hold_more_connections_than_the_share() -> None:
    slots = process_share(4, 2)
    assert slots is not None and slots.limit == 2

    async def unit(need: int) -> None:
        async with slots.hold(need):
            assert slots.in_use <= slots.limit
            await asyncio.sleep(0.01)

    await asyncio.gather(*(unit(n) for n in (2, 1, 2, 1, 1, 2)))
    assert slots.high_water == 2 and slots.in_use == 0


async def test_a_unit_needing_more_than_the_share_fails_instead_of_waiting_forever() -> None:
    with pytest.raises(SlotsTooFew, match="raise maxConnections"):
        async with ConnectionSlots(1).hold(2):
            pass
