"""Validation's queries reuse each other's sessions (ferry.copy.reused_sessions), on real servers:
one session per endpoint for queries one after another, a new one after a failed query or a
session the server cut while idle, none left open after the block, and none reused outside it; a
PostgreSQL session in a block keeps the memory its large texts free (ferry.copy.pg_session_memory)."""

from __future__ import annotations

import time
from pathlib import Path

import asyncmy.errors
import asyncpg
import pytest

from ferry.copy.endpoints import Endpoint
from ferry.copy.reused_sessions import reused_sessions
from ferry.copy.streams import first_row, scalar, stream_rows
from harness.databases import Database
from integration.copy.helpers import mysql_endpoint, mysql_exec, mysql_rows, pg_endpoint, pg_exec, pg_rows

SESSION_ID = {"postgresql": "SELECT pg_backend_pid()", "mysql": "SELECT CONNECTION_ID()"}


@pytest.fixture(params=["postgresql", "mariadb"])
def database(request: pytest.FixtureRequest) -> tuple[str, Database, Endpoint]:
    if request.param == "postgresql":
        db: Database = request.getfixturevalue("pg_db")
        return "postgresql", db, pg_endpoint(db)
    db = request.getfixturevalue("mariadb_db")
    return "mysql", db, mysql_endpoint(db)


def _kill(dialect: str, db: Database, session_id: int) -> None:
    if dialect == "postgresql":
        pg_exec(db, f"SELECT pg_terminate_backend({session_id})")
    else:
        mysql_exec(db, f"KILL {session_id}")


def _listed(dialect: str, db: Database, session_id: int) -> bool:
    if dialect == "postgresql":
        query = f"SELECT count(*) FROM pg_stat_activity WHERE pid = {session_id}"
        return bool(pg_rows(db, query)[0][0])
    return bool(
        mysql_rows(db, f"SELECT count(*) FROM information_schema.processlist WHERE id = {session_id}")[0][0]
    )


def _gone(dialect: str, db: Database, session_id: int) -> bool:
    """The server no longer lists the session (a closed one can take it a moment to drop)."""
    for _ in range(50):
        if not _listed(dialect, db, session_id):
            return True
        time.sleep(0.1)
    return False


async def test_queries_in_a_block_share_a_session_and_it_is_closed_after(
    database: tuple[str, Database, Endpoint],
) -> None:
    dialect, db, endpoint = database
    async with reused_sessions():
        ids = [await scalar(endpoint, SESSION_ID[dialect]) for _ in range(5)]
        # a stream closed after its first chunk gives its session back too
        assert await first_row(endpoint, "SELECT 1 UNION ALL SELECT 2") == (1,)
        ids.append(await scalar(endpoint, SESSION_ID[dialect]))
        assert len(set(ids)) == 1, ids
        assert _listed(dialect, db, ids[0])
    assert _gone(dialect, db, ids[0])
    outside = [await scalar(endpoint, SESSION_ID[dialect]) for _ in range(2)]
    assert len(set(outside)) == 2 and ids[0] not in outside


async def test_a_failed_query_s_session_is_closed_and_a_cut_one_is_replaced(
    database: tuple[str, Database, Endpoint],
) -> None:
    dialect, db, endpoint = database
    async with reused_sessions():
        first = await scalar(endpoint, SESSION_ID[dialect])
        with pytest.raises((asyncpg.PostgresError, asyncmy.errors.MySQLError)):
            await scalar(endpoint, "SELECT no_such_column FROM no_such_table")
        second = await scalar(endpoint, SESSION_ID[dialect])
        assert second != first and _gone(dialect, db, first)  # the failed query's session closed
        _kill(dialect, db, second)  # the server cuts the idle session
        third = await scalar(endpoint, SESSION_ID[dialect])
        assert third not in (first, second)
        assert [rows async for rows in stream_rows(endpoint, "SELECT 7")] == [[(7,)]]
        assert await scalar(endpoint, SESSION_ID[dialect]) == third


async def test_a_stream_still_open_when_the_block_ends_closes_its_session_after(
    database: tuple[str, Database, Endpoint],
) -> None:
    dialect, db, endpoint = database
    async with reused_sessions():
        stream = stream_rows(endpoint, SESSION_ID[dialect])
        [(session_id,)] = await anext(stream)
    assert _listed(dialect, db, session_id)  # still reading
    await stream.aclose()
    assert _gone(dialect, db, session_id)  # not kept for a block that has ended


# A text of about 4 MB, as the ordered digest joins a range's lines (ferry.copy.validate_pushdown_ordered).
LARGE_TEXT = "SELECT length(string_agg(repeat('x', 200), ';')) FROM generate_series(1, 20000)"


def _page_faults(pid: int) -> int:
    """Minor page faults of a server process so far (/proc/PID/stat's minflt, its 10th field)."""
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[7])


async def test_a_postgresql_session_in_a_block_reuses_the_memory_its_large_texts_freed(
    pg_db: Database,
) -> None:
    """ferry.copy.pg_session_memory: in a block the server process faults in a large text's pages
    once; a session not told so faults them in again for every query (glibc's malloc, which
    Debian's packages and the Debian-based official images use)."""
    endpoint = pg_endpoint(pg_db)
    async with reused_sessions():
        pid = await scalar(endpoint, "SELECT pg_backend_pid()")
        await scalar(endpoint, LARGE_TEXT)  # the first one's pages are new in any case
        before = _page_faults(pid)
        for _ in range(3):
            assert await scalar(endpoint, LARGE_TEXT) == 20000 * 201 - 1
        kept = _page_faults(pid) - before
    plain = await endpoint.connect()
    try:
        pid = await plain.fetchval("SELECT pg_backend_pid()")
        await plain.fetchval(LARGE_TEXT)
        before = _page_faults(pid)
        for _ in range(3):
            await plain.fetchval(LARGE_TEXT)
        fresh = _page_faults(pid) - before
    finally:
        await plain.close()
    assert fresh > 3 * 1000, fresh  # at least the 4 MB text's pages (4 KB each) per query
    assert kept < fresh / 10, (kept, fresh)
