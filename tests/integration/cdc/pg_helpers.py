"""Helpers of the change-capture tests: sides, mappings, SQL on the source, reading changes."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

import psycopg

from ferry.api.connection import DatabaseConnectionSpec
from ferry.cdc.changes import AppliedPosition, ChangeSource, RowChange, SourceTransaction
from ferry.db.credentials import Credentials
from ferry.schema.mapping import TableMapping
from ferry.services.planning import Side
from harness.databases import Database
from integration.copy.helpers import table_mapping


def side_of(db: Database) -> Side:
    spec = DatabaseConnectionSpec.model_validate(
        {"engine": "postgresql", "host": db.host, "port": db.port, "database": db.name,
         "credentialsSecretRef": {"name": "src"}}
    )  # fmt: skip
    return Side(spec, Credentials(db.user, db.password))


def mapping(table: str, columns: Sequence[tuple[str, str]], key: Sequence[str] = ("id",)) -> TableMapping:
    return table_mapping(table, columns, key, source_schema="public", not_null=tuple(key))


def execute(db: Database, *statements: str) -> None:
    with psycopg.connect(db.libpq_dsn(), autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)  # type: ignore[arg-type]


def rows(db: Database, query: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(db.libpq_dsn(), autocommit=True) as conn:
        return list(conn.execute(query).fetchall())  # type: ignore[arg-type]


def slot_row(db: Database, slot: str) -> dict[str, Any] | None:
    with psycopg.connect(db.libpq_dsn(), autocommit=True) as conn:
        cur = conn.execute(
            "SELECT slot_name, plugin, slot_type, temporary, confirmed_flush_lsn::text AS confirmed "
            "FROM pg_replication_slots WHERE slot_name = %s",
            (slot,),
        )
        row = cur.fetchone()
        if row is None:
            return None
        return dict(zip([c.name for c in cur.description or ()], row, strict=True))


def applied(txn: SourceTransaction) -> AppliedPosition:
    """What the target has applied once it committed `txn` (or this chunk of it)."""
    return AppliedPosition(txn.position, txn.first_index + len(txn.changes), txn.last_chunk)


async def read_changes(
    source: ChangeSource, after: AppliedPosition, count: int, max_changes: int = 1000, timeout: float = 20
) -> tuple[list[SourceTransaction], AppliedPosition]:
    """Read until `count` changes came (the test server flushes commits lazily: they show up in
    the slot within a fraction of a second); returns them and the position after them."""
    out: list[SourceTransaction] = []
    deadline = time.monotonic() + timeout
    while sum(len(t.changes) for t in out) < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"{count} changes expected, {sum(len(t.changes) for t in out)} came")
        for txn in await source.read(after, max_changes, 1.0):
            out.append(txn)
            after = applied(txn)
    return out, after


def flat(txns: Sequence[SourceTransaction]) -> list[RowChange]:
    return [c for t in txns for c in t.changes]


async def settle() -> None:
    """Let the test server's WAL writer flush (synchronous_commit is off there)."""
    await asyncio.sleep(0.5)
