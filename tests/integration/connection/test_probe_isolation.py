"""A probe of a database that hangs ends on its own and leaks no thread; one that answers slowly
still succeeds; hanging probes do not hold up the probe of another connection.

The databases are real PostgreSQL servers behind harness.stall_proxy, which lets the login
through and then swallows every query (or holds every chunk for a while).
"""

from __future__ import annotations

import asyncio
import functools
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from ferry.api import conditions as c
from ferry.api.connection import DatabaseConnectionSpec
from ferry.db.credentials import Credentials
from ferry.db.probe import probe
from ferry.services.probe_runner import Finished, ProbeRunner, StillRunning
from harness.databases import Database
from harness.stall_proxy import StallProxy
from integration.connection.conftest import connection_spec

HANGING = 8  # more hanging databases than the event loop's default executor has threads here


def _spec(db: Database, port: int | None = None, timeout: int = 1) -> DatabaseConnectionSpec:
    spec: dict[str, Any] = connection_spec(db)
    spec.update(host="127.0.0.1", port=port or db.port, healthCheck={"timeoutSeconds": timeout})
    return DatabaseConnectionSpec.model_validate(spec)


def _creds(db: Database) -> Credentials:
    return Credentials(username=db.user, password=db.password)


def _probe_threads() -> int:
    return sum(1 for t in threading.enumerate() if t.name.startswith("ferry-probe"))


@pytest.fixture
def hanging(pg_db: Database) -> Iterator[StallProxy]:
    proxy = StallProxy(pg_db.host, pg_db.port, hang_after_login=True).start()
    yield proxy
    proxy.stop()


def test_a_database_that_hangs_after_login_times_the_probe_out_and_leaks_no_thread(
    pg_db: Database, hanging: StallProxy
) -> None:
    before = threading.active_count()
    results = [probe(_spec(pg_db, hanging.port), _creds(pg_db), timeout=1) for _ in range(4)]

    assert hanging.connections == 4  # each probe logged in through the proxy, then hung
    for result in results:
        assert not result.ok and result.reason == c.TIMEOUT, result
        assert "accepted the connection but did not answer within 3s" in result.message, result.message
        assert pg_db.password not in result.message
    assert threading.active_count() == before


def test_a_database_that_answers_slowly_is_still_ready(pg_db: Database) -> None:
    slow = StallProxy(pg_db.host, pg_db.port, delay=0.2).start()
    try:
        result = probe(_spec(pg_db, slow.port, timeout=5), _creds(pg_db), timeout=5)
    finally:
        slow.stop()
    assert result.ok and result.reason == c.CONNECTED, result.message


def test_hanging_probes_do_not_hold_up_another_connection_and_end_on_their_own(
    pg_db: Database, hanging: StallProxy
) -> None:
    runner = ProbeRunner()
    before = threading.active_count()

    async def scenario() -> None:
        stuck = [
            asyncio.ensure_future(
                runner.run(
                    f"hang-{i}", functools.partial(probe, _spec(pg_db, hanging.port), _creds(pg_db), 1), 30
                )
            )
            for i in range(HANGING)
        ]
        await asyncio.sleep(0)  # every hanging probe is submitted before the good one
        good = await runner.run("good", functools.partial(probe, _spec(pg_db), _creds(pg_db), 5), 30)
        assert isinstance(good, Finished) and good.value.ok, good
        assert not any(task.done() for task in stuck)  # ready while every hanging probe still hangs
        for task in stuck:
            ended = await task
            assert isinstance(ended, Finished) and ended.value.reason == c.TIMEOUT, ended

    asyncio.run(scenario())
    assert _probe_threads() <= HANGING + 1  # one thread per connection at most, reused
    runner.shutdown()
    for thread in [t for t in threading.enumerate() if t.name.startswith("ferry-probe")]:
        thread.join(10)
    assert threading.active_count() == before


def test_a_connection_whose_probe_still_hangs_does_not_start_another(
    pg_db: Database, hanging: StallProxy
) -> None:
    runner = ProbeRunner()
    hang = functools.partial(probe, _spec(pg_db, hanging.port), _creds(pg_db), 1)

    async def scenario() -> tuple[Any, Any]:
        first = await runner.run("conn", hang, 0.2)  # the controller stops waiting; the probe goes on
        second = await runner.run("conn", hang, 0.2)
        return first, second

    first, second = asyncio.run(scenario())
    assert first == StillRunning(previous=False) and second == StillRunning(previous=True)
    assert runner.busy("conn") and _probe_threads() == 1 and hanging.connections == 1
    runner.shutdown()
