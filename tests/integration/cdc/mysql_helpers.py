"""MariaDB sources for the binlog capture tests: Sides, mappings as the plan builds them, reading."""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa

from ferry.api.connection import CredentialsSecretRef, DatabaseConnectionSpec
from ferry.api.migration import MigrationSpec
from ferry.cdc.changes import AppliedPosition, Position, SourceTransaction
from ferry.cdc.mysql_change_source import MySQLChangeSource
from ferry.db.credentials import Credentials
from ferry.schema.discovery import discover
from ferry.schema.mapping import TableMapping
from ferry.schema.selection import select_tables
from ferry.services.planning import Side
from harness.databases import Database, MariaDBServer

SPEC = MigrationSpec.model_validate(
    {"source": {"connectionRef": {"name": "s"}}, "target": {"connectionRef": {"name": "t"}}}
)


def side(db: Database) -> Side:
    spec = DatabaseConnectionSpec(
        engine=db.engine,  # type: ignore[arg-type]
        host=db.host,
        port=db.port,
        database=db.name,
        credentials_secret_ref=CredentialsSecretRef(name="source"),
    )
    return Side(spec, Credentials(username=db.user, password=db.password))


def grant_replication(server: MariaDBServer, db: Database) -> None:
    with server.admin() as conn, conn.cursor() as cur:
        cur.execute(f"GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO '{db.user}'@'%'")


def mappings(db: Database, *tables: str) -> list[TableMapping]:
    """The tables' mappings as the plan builds them (discovery, selection) for a PostgreSQL target."""
    engine = sa.create_engine(db.sqlalchemy_url())
    try:
        schema = discover(engine, None)
    finally:
        engine.dispose()
    found = {m.source_table: m for m in select_tables(schema, SPEC, "postgresql")}
    return [found[t] for t in tables]


def run(db: Database, *statements: str, sql_mode: str | None = None) -> None:
    import pymysql

    conn = pymysql.connect(
        host=db.host, port=db.port, user=db.user, password=db.password, database=db.name, charset="utf8mb4",
        autocommit=True,
    )  # fmt: skip
    try:
        with conn.cursor() as cur:
            if sql_mode is not None:
                cur.execute("SET SESSION sql_mode = %s", (sql_mode,))
            for statement in statements:
                cur.execute(statement)
    finally:
        conn.close()


def changes_in(txns: Sequence[SourceTransaction]) -> int:
    return sum(len(t.changes) for t in txns)


async def collect(
    source: MySQLChangeSource,
    after: AppliedPosition,
    *,
    changes: int | None = None,
    until: Position | None = None,
    timeout: float = 60.0,
    max_changes: int = 10_000,
) -> list[SourceTransaction]:
    """Read until `changes` changes came (or a transaction at or after `until`), or the timeout."""
    out: list[SourceTransaction] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        out.extend(await source.read(after, max_changes, 0.5))
        if changes is not None and changes_in(out) >= changes:
            break
        if until is not None and out and max(t.position for t in out) >= until:
            break
    return out


def real(txns: Sequence[SourceTransaction]) -> list[SourceTransaction]:
    """Without the empty markers (positions of transactions on other tables, idle heartbeats)."""
    return [t for t in txns if t.changes]


def as_tuple(row: Any, mapping: TableMapping) -> tuple[object, ...]:
    return tuple(row[c.source] for c in mapping.columns)
