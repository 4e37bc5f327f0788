"""The follower's session ledger on the change streams of real servers: what the capture holds on
the source is counted while it is open (and matches what the server shows), a binlog stream the
server cut is opened again by the library and counted as a reconnect, and nothing is held after
close."""

from __future__ import annotations

import asyncio
import time

import psycopg

from ferry.cdc import mysql_capture, pg_capture
from ferry.cdc.changes import AppliedPosition
from ferry.copy.sessions import SessionLedger
from harness.databases import Database, MariaDBServer
from integration.cdc import mysql_helpers as maria
from integration.cdc.mysql_helpers import collect, real
from integration.cdc.pg_helpers import execute, mapping, read_changes, side_of

ITEMS = mapping("items", [("id", "integer"), ("name", "text")])
UID = "8d7f3c2a-5e41-4b0a-9c6d-1f2e3a4b5c6d"


async def test_the_pg_change_stream_holds_one_source_session_until_closed(
    source_db: Database, migration_uid: str
) -> None:
    execute(source_db, "CREATE TABLE items (id integer PRIMARY KEY, name text)")
    source = side_of(source_db)
    start = pg_capture.start(source, [ITEMS], migration_uid)
    ledger = SessionLedger()
    stream = await pg_capture.open_source(source, [ITEMS], migration_uid, start, ledger)
    try:
        execute(source_db, "INSERT INTO items VALUES (1, 'a')")
        txns, _ = await read_changes(stream, AppliedPosition(start), 1)
        assert txns
        assert (ledger.open_sessions("source"), ledger.open_sessions("target")) == (1, 0)
        with psycopg.connect(source_db.libpq_dsn()) as conn:  # the server sees that one session
            row = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND usename = %s "
                "AND pid <> pg_backend_pid() AND backend_type = 'client backend'",
                (source_db.name, source_db.user),
            ).fetchone()
        assert row == (1,)
    finally:
        await stream.close()
    assert ledger.open_sessions("source") == 0
    assert ledger.reconnects("source") == 0


def _binlog_dumps(server: MariaDBServer, user: str) -> list[int]:
    with server.admin() as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT id FROM information_schema.processlist WHERE command = 'Binlog Dump' AND user = %s",
            (user,),
        )
        return [int(row[0]) for row in cur.fetchall()]


async def test_a_binlog_stream_the_server_cut_is_opened_again_and_counted(
    mariadb_server: MariaDBServer, mariadb_db: Database
) -> None:
    maria.grant_replication(mariadb_server, mariadb_db)
    maria.run(mariadb_db, "CREATE TABLE t (id int PRIMARY KEY, v text)")
    tables = maria.mappings(mariadb_db, "t")
    start = mysql_capture.start(maria.side(mariadb_db), tables, UID)
    ledger = SessionLedger()
    stream = await mysql_capture.open_source(maria.side(mariadb_db), tables, UID, start, ledger)
    try:
        maria.run(mariadb_db, "INSERT INTO t VALUES (1, 'before')")
        assert real(await collect(stream, AppliedPosition(start), changes=1))
        # The follower's control connection, and the binlog reader's stream and control connections.
        assert ledger.open_sessions("source") == 3
        (dump,) = _binlog_dumps(mariadb_server, mariadb_db.user)
        with mariadb_server.admin() as conn, conn.cursor() as cur:
            cur.execute(f"KILL {dump}")

        deadline = time.monotonic() + 60
        while ledger.reconnects("source") == 0 and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
        assert ledger.reconnects("source") == 1
        maria.run(mariadb_db, "INSERT INTO t VALUES (2, 'after')")
        after = real(await collect(stream, AppliedPosition(start), changes=1))
        # The stream goes on from where it was cut: nothing read twice, nothing lost.
        assert [c.new["id"] for t in after for c in t.changes if c.new] == [2]
        assert ledger.open_sessions("source") == 3  # the cut stream is gone, its successor counts
        assert _binlog_dumps(mariadb_server, mariadb_db.user) != [dump]
    finally:
        await stream.close()
        mysql_capture.drop(maria.side(mariadb_db), UID)
    assert ledger.open_sessions("source") == 0
