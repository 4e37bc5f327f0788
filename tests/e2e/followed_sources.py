"""The source of an online Migration, per engine, as the fault scenarios see it: made ready to be
followed, written to, read back, and what Ferry's change capture holds on the server.

PostgreSQL's capture is a replication slot (and a publication), there from the moment it opens.
MariaDB's holds nothing on the server until a follower reads: opening it records a binlog
position on the target; the follower then holds one binlog dump thread (a replica's
connection) while it runs. Either way, the start the capture opened at is the row of the
target's replication bookkeeping (`ferry.cdc.bookkeeping`) that the follower reads from.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import psycopg
import pymysql
import pytest

from ferry.cdc.bookkeeping_sql import TABLE as BOOKKEEPING_TABLE
from harness.databases import Database, MariaDBServer, PostgresServer
from harness.datasets import add_generated_table

ENGINES = ("postgresql", "mariadb")
READINGS = "SELECT id, taken_at, value FROM readings ORDER BY id"

# A MariaDB `readings` as harness.datasets.add_generated_table makes it on PostgreSQL.
_MARIA_READINGS = (
    "CREATE TABLE readings (id bigint PRIMARY KEY, taken_at datetime(6) NOT NULL, value double)",
    "INSERT INTO readings SELECT seq, TIMESTAMP '2020-01-01 00:00:00' + INTERVAL seq SECOND, seq / 7.0 "
    "FROM seq_1_to_{rows}",
)


@dataclass(frozen=True)
class FollowedSource:
    engine: str
    db: Database
    holds: Callable[[], list[str]]  # what Ferry's capture holds on the server now
    opens_on_server: bool  # whether opening the capture (before any follower) creates something there

    def execute(self, *statements: str) -> None:
        for statement in statements:
            rows(self.db, statement)

    def wait_holds(self, count: int, timeout: float = 120) -> list[str]:
        """What the capture holds, once it is `count` things (a replaced follower's dump thread
        ends at its next heartbeat, not at once)."""
        deadline = time.monotonic() + timeout
        while len(held := self.holds()) != count:
            assert time.monotonic() < deadline, (
                f"the capture holds {held} on the source, not {count} thing(s)"
            )
            time.sleep(0.5)
        return held


def followed_source(request: pytest.FixtureRequest, engine: str, readings: int) -> FollowedSource:
    """A source database of `engine` whose user may be followed, with `readings` rows in
    `readings`. Only that engine's server fixture is started."""
    if engine == "postgresql":
        pg_server: PostgresServer = request.getfixturevalue("pg_server")
        db: Database = request.getfixturevalue("pg_source")
        with pg_server.admin() as admin:  # logical decoding needs the REPLICATION attribute
            admin.execute(f'ALTER ROLE "{db.user}" REPLICATION')
        add_generated_table(db, readings)
        return FollowedSource(engine, db, lambda: _slots(pg_server, db), opens_on_server=True)
    maria: MariaDBServer = request.getfixturevalue("mariadb_server")
    db = maria.create_database()
    with maria.admin() as admin, admin.cursor() as cur:  # reading the binlog as a replica does
        cur.execute(f"GRANT REPLICATION SLAVE, REPLICATION CLIENT, RELOAD ON *.* TO '{db.user}'@'%'")
    source = FollowedSource(engine, db, lambda: _dump_threads(maria, db), opens_on_server=False)
    source.execute(*(s.format(rows=readings) for s in _MARIA_READINGS))
    return source


def _slots(server: PostgresServer, db: Database) -> list[str]:
    with server.admin(db.name) as admin:
        found = admin.execute(
            "SELECT slot_name FROM pg_replication_slots WHERE slot_name LIKE 'ferry%%' AND database = %s",
            (db.name,),
        ).fetchall()
    return [f"slot {r[0]}" for r in found]


def _dump_threads(server: MariaDBServer, db: Database) -> list[str]:
    """The binlog dump threads of the source's user: a follower's stream (mysql-replication
    registers as a replica under the Migration's server_id)."""
    with server.admin() as admin, admin.cursor() as cur:
        cur.execute(
            "SELECT id FROM information_schema.PROCESSLIST WHERE command LIKE 'Binlog Dump%%' AND user = %s",
            (db.user,),
        )
        return [f"binlog dump thread {r[0]}" for r in cur.fetchall()]


def rows(db: Database, query: str) -> list[tuple[Any, ...]]:
    """The rows a statement returns ([] for one that returns none), on either engine."""
    if db.engine == "postgresql":
        with psycopg.connect(db.libpq_dsn(), autocommit=True) as conn:
            cur = conn.execute(query)
            return [tuple(r) for r in cur.fetchall()] if cur.description else []
    conn = pymysql.connect(
        host=db.host, port=db.port, user=db.user, password=db.password, database=db.name, autocommit=True
    )
    try:
        with conn.cursor() as cur:
            cur.execute(query)
            return [tuple(r) for r in cur.fetchall()]
    finally:
        conn.close()


def wait_same_rows(source: Database, target: Database, query: str, timeout: float = 120) -> None:
    """Until the follower has applied every change (nothing writes meanwhile): then `query` returns
    the same rows on both sides, none missing and none twice."""
    deadline = time.monotonic() + timeout
    while (want := rows(source, query)) != (got := rows(target, query)):
        if time.monotonic() > deadline:
            missing, extra = set(want) - set(got), set(got) - set(want)
            raise AssertionError(
                f"target has {len(got)} rows, source {len(want)}: {len(missing)} missing or different, "
                f"{len(extra)} not on the source (or twice: {len(got) - len(set(got))})"
            )
        time.sleep(0.5)


def recorded_start(target: Database, migration_uid: str) -> str | None:
    """The capture's start as the target's bookkeeping holds it (None: no row, or no table)."""
    with psycopg.connect(target.libpq_dsn(), autocommit=True) as conn:
        exists = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (BOOKKEEPING_TABLE,)).fetchone()
        if not exists or not exists[0]:
            return None
        row = conn.execute(
            f"SELECT start_text FROM {BOOKKEEPING_TABLE} WHERE migration_uid = %s",
            (migration_uid,),
        ).fetchone()
    return None if row is None else str(row[0])
