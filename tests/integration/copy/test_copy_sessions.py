"""The sessions a copy process holds, as the worker reports them (ferry.copy.sessions), against
what the database server itself shows; and a session the server killed mid-copy counted as a
reconnect of that side only, with the copy ending complete."""

from __future__ import annotations

import pytest

from ferry.api.migration import CopySpec
from ferry.copy import CopyJob, Endpoints, ProgressEvent, plan_units, run_units
from ferry.copy.sessions import SessionLedger, Side
from harness.databases import Database
from integration.copy.helpers import mysql_endpoint, mysql_exec, pg_endpoint, pg_exec, pg_rows, table_mapping

ROWS = 4000
# About a millisecond per row at the source, so the copy is still running when the test looks.
SLOW = "pg_sleep(0.001) IS NOT NULL"


def _pg_tables(source: Database, target: Database) -> None:
    pg_exec(source, "CREATE TABLE t (id integer PRIMARY KEY, v text)",
            f"INSERT INTO t SELECT i, repeat('x', i % 40) FROM generate_series(1, {ROWS}) i")  # fmt: skip
    pg_exec(target, "CREATE TABLE t (id integer, v text)")  # no key: a doubled row would be counted


def _server_sessions(db: Database) -> int:
    """Backends of `db` other than the one asking (pg_stat_activity, the server's view)."""
    [(count,)] = pg_rows(
        db, f"SELECT count(*) FROM pg_stat_activity WHERE datname = '{db.name}' AND pid <> pg_backend_pid()"
    )
    return int(count)


async def test_the_ledger_counts_what_the_server_shows_and_nothing_once_the_copy_ended(
    pg_db: Database, pg_db2: Database
) -> None:
    _pg_tables(pg_db, pg_db2)
    ledger = SessionLedger()
    endpoints = ledger.endpoints(Endpoints(pg_endpoint(pg_db), pg_endpoint(pg_db2)))
    job = CopyJob("sessions", endpoints, CopySpec(batch_size=200), sessions=ledger)
    mapping = table_mapping("t", [("id", "integer"), ("v", "text")], where=SLOW)
    seen: list[tuple[int, int, int, int]] = []

    def progress(event: ProgressEvent) -> None:
        if event.rows_copied >= ROWS // 4 and not seen:  # mid-copy: no unit opens or closes now
            seen.append((ledger.open_sessions("source"), _server_sessions(pg_db),
                         ledger.open_sessions("target"), _server_sessions(pg_db2)))  # fmt: skip

    results = await run_units(job, await plan_units([mapping], endpoints.source, job.copy), progress=progress)

    assert results.ok, results.failed
    [(source, on_source, target, on_target)] = seen
    assert (source, target) == (2, 1)  # the reader and the batch-bounds lookup; the writer
    assert (source, target) == (on_source, on_target)
    assert (ledger.open_sessions("source"), ledger.open_sessions("target")) == (0, 0)
    assert (ledger.reconnects("source"), ledger.reconnects("target")) == (0, 0)


async def test_mariadb_source_sessions_are_counted_with_their_bulk_reader(
    mariadb_db: Database, pg_db: Database
) -> None:
    mysql_exec(mariadb_db, "CREATE TABLE t (id integer PRIMARY KEY, v text)",
               "INSERT INTO t SELECT seq, repeat('x', seq % 40) FROM seq_1_to_4000")  # fmt: skip
    pg_exec(pg_db, "CREATE TABLE t (id integer, v text)")
    ledger = SessionLedger()
    endpoints = ledger.endpoints(Endpoints(mysql_endpoint(mariadb_db), pg_endpoint(pg_db)))
    job = CopyJob("sessions-maria", endpoints, CopySpec(batch_size=100), sessions=ledger)
    mapping = table_mapping("t", [("id", "integer"), ("v", "text")])
    seen: list[tuple[int, int]] = []

    def progress(event: ProgressEvent) -> None:
        if event.rows_copied and not event.done and not seen:
            seen.append((ledger.open_sessions("source"), ledger.open_sessions("target")))

    results = await run_units(job, await plan_units([mapping], endpoints.source, job.copy), progress=progress)

    assert results.ok, results.failed
    # PyMySQL reader, asyncmy bulk reader, PyMySQL bounds lookup; the PostgreSQL writer.
    assert seen == [(3, 1)]
    assert (ledger.open_sessions("source"), ledger.open_sessions("target")) == (0, 0)


@pytest.mark.parametrize("side", ["source", "target"])
async def test_sessions_killed_by_the_server_count_as_reconnects_of_that_side(
    pg_db: Database, pg_db2: Database, side: Side
) -> None:
    _pg_tables(pg_db, pg_db2)
    killed_db = pg_db if side == "source" else pg_db2
    ledger = SessionLedger()
    endpoints = ledger.endpoints(Endpoints(pg_endpoint(pg_db), pg_endpoint(pg_db2)))
    job = CopyJob(f"sessions-kill-{side}", endpoints, CopySpec(batch_size=200), sessions=ledger)
    mapping = table_mapping("t", [("id", "integer"), ("v", "text")], where=SLOW)
    killed: list[int] = []

    def progress(event: ProgressEvent) -> None:
        if event.rows_copied >= ROWS // 4 and not killed:
            kill = (
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                f"WHERE datname = '{killed_db.name}' AND pid <> pg_backend_pid()"
            )
            [(count,)] = pg_rows(killed_db, kill)
            killed.append(int(count))

    results = await run_units(job, await plan_units([mapping], endpoints.source, job.copy), progress=progress)

    assert results.ok, results.failed
    assert killed and killed[0] > 0
    other: Side = "target" if side == "source" else "source"
    assert ledger.reconnects(side) >= 1
    assert ledger.reconnects(other) == 0
    assert pg_rows(pg_db2, "SELECT count(*), count(DISTINCT id) FROM t")[0] == (ROWS, ROWS)
