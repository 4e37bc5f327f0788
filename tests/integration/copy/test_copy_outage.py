"""A database stopped mid-copy and started again: the copy waits, reconnects, resumes from its
checkpoints and ends with exactly the source rows (no key on the target: a doubled row would be
counted, not refused). Each side has its own server here, so one can go down alone."""

from __future__ import annotations

import asyncio
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ferry.api.migration import CopySpec
from ferry.copy import CopyJob, Endpoints, ProgressEvent, Reconnect, plan_units, run_units
from harness.databases import LOGICAL, Database, PostgresServer
from integration.copy.helpers import pg_endpoint, pg_exec, pg_rows, table_mapping

ROWS = 6000
OUTAGE_SECONDS = 6.0


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, PostgresServer]]:
    started = {
        side: PostgresServer(Path(tempfile.mkdtemp(prefix=f"ferry-outage-{side}-")), settings=LOGICAL).start()
        for side in ("source", "target")
    }
    yield started
    for server in started.values():
        server.stop()


def _databases(servers: dict[str, PostgresServer]) -> tuple[Database, Database]:
    source, target = servers["source"].create_database(), servers["target"].create_database()
    pg_exec(source, "CREATE TABLE t (id integer PRIMARY KEY, v text)",
            f"INSERT INTO t SELECT i, repeat('x', i % 40) FROM generate_series(1, {ROWS}) i")  # fmt: skip
    pg_exec(target, "CREATE TABLE t (id integer, v text)")
    return source, target


@pytest.mark.parametrize("side", ["source", "target"])
async def test_a_database_that_goes_away_mid_copy_is_waited_for_and_nothing_is_lost(
    servers: dict[str, PostgresServer], side: str
) -> None:
    source, target = _databases(servers)
    # About a millisecond per row at the source, so the outage lands in the middle of the copy.
    mapping = table_mapping("t", [("id", "integer"), ("v", "text")], where="pg_sleep(0.001) IS NOT NULL")
    job = CopyJob(
        f"outage-{side}", Endpoints(pg_endpoint(source), pg_endpoint(target)), CopySpec(batch_size=100)
    )
    copied, outages, outage = 0, [], threading.Thread(target=_outage, args=(servers[side],))

    def progress(event: ProgressEvent) -> None:
        nonlocal copied
        copied = event.rows_copied
        if copied >= ROWS // 4 and not outage.is_alive() and outage.ident is None:
            outage.start()

    results = await run_units(
        job, await plan_units([mapping], job.endpoints.source, job.copy), progress=progress,
        on_outage=lambda unit, error, delay: outages.append(error),
    )  # fmt: skip
    await asyncio.to_thread(outage.join)

    assert results.ok, results.failed
    assert outages, "the outage did not land during the copy"
    assert pg_rows(target, "SELECT count(*), count(DISTINCT id) FROM t")[0] == (ROWS, ROWS)


async def test_a_database_gone_for_longer_than_the_wait_fails_the_unit_as_an_outage(
    servers: dict[str, PostgresServer],
) -> None:
    source, target = _databases(servers)
    mapping = table_mapping("t", [("id", "integer"), ("v", "text")], where="pg_sleep(0.001) IS NOT NULL")
    endpoints = Endpoints(pg_endpoint(source), pg_endpoint(target))
    job = CopyJob("outage-long", endpoints, CopySpec(batch_size=100), reconnect=Reconnect(give_up_after=2.0))
    down = threading.Event()

    def progress(event: ProgressEvent) -> None:
        if event.rows_copied >= ROWS // 4 and not down.is_set():
            down.set()
            servers["target"].go_down()

    try:
        results = await run_units(
            job, await plan_units([mapping], job.endpoints.source, job.copy), progress=progress
        )
    finally:
        servers["target"].come_back()
    [failed] = results.failed
    assert failed.connection_lost, failed.error


def _outage(server: PostgresServer) -> None:
    server.go_down()
    time.sleep(OUTAGE_SECONDS)
    server.come_back()
