"""A scripted change source and the pieces the apply tests share.

`ScriptedSource` plays a fixed list of source transactions as a `ChangeSource` would: after a
position, in order, at most about `max_changes` per read, a transaction larger than that in
chunks. Like a replication slot it resends from what was last *confirmed* (not from what the
follower asks), so a follower that committed but did not confirm sees old transactions again and
must drop them itself. It checks the contract's promise: never confirmed past the target.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import psycopg

from ferry.api.connection import DatabaseConnectionSpec
from ferry.cdc.changes import (
    AppliedPosition,
    CaptureKind,
    ChangeKind,
    Position,
    RowChange,
    SourceLag,
    SourceTransaction,
    Value,
)
from ferry.db.credentials import Credentials
from ferry.services.planning import Side
from harness.databases import Database

TABLE = ("public", "items")
ITEM_COLUMNS = ("name", "note", "n")  # of TABLE besides its key `id`: None unless given


def _row(table: tuple[str | None, str], key: int, values: dict[str, Value]) -> dict[str, Value]:
    defaults: dict[str, Value] = dict.fromkeys(ITEM_COLUMNS) if table == TABLE else {}
    return {"id": str(key), **defaults, **values}


def side(db: Database) -> Side:
    spec = DatabaseConnectionSpec.model_validate(
        {"engine": db.engine, "host": db.host, "port": db.port, "database": db.name,
         "credentialsSecretRef": {"name": "creds"}}
    )  # fmt: skip
    return Side(spec, Credentials(username=db.user, password=db.password))


def insert(key: int, table: tuple[str | None, str] = TABLE, **values: Value) -> RowChange:
    return RowChange(table, ChangeKind.INSERT, new=_row(table, key, values))


def update(
    key: int, table: tuple[str | None, str] = TABLE, old_key: int | None = None, **values: Value
) -> RowChange:
    old = None if old_key is None else {"id": str(old_key)}
    return RowChange(table, ChangeKind.UPDATE, new=_row(table, key, values), old=old)


def delete(key: int, table: tuple[str | None, str] = TABLE) -> RowChange:
    return RowChange(table, ChangeKind.DELETE, old={"id": str(key)})


def truncate(table: tuple[str | None, str] = TABLE) -> RowChange:
    return RowChange(table, ChangeKind.TRUNCATE)


def txn(lsn: int, *changes: RowChange, at: datetime | None = None) -> SourceTransaction:
    return SourceTransaction(Position(lsn, 0, f"0/{lsn:X}"), at or datetime.now(UTC), list(changes))


@dataclass
class ScriptedSource:
    transactions: Sequence[SourceTransaction]
    confirmed: AppliedPosition = field(default_factory=lambda: AppliedPosition(Position(0)))
    target: Database | None = None  # checked on confirm: never past the stored position
    uid: str = ""
    on_read: Callable[[int], None] | None = None  # called with the read's number (from 1)
    on_confirm: Callable[[AppliedPosition], None] | None = None
    kind: CaptureKind = "pgoutput"
    reads: list[AppliedPosition] = field(default_factory=list)
    confirms: list[AppliedPosition] = field(default_factory=list)
    sent: AppliedPosition | None = None  # how far the stream went; a new stream starts at `confirmed`

    async def read(
        self, after: AppliedPosition, max_changes: int, wait_seconds: float
    ) -> list[SourceTransaction]:
        self.reads.append(after)
        if self.on_read is not None:
            self.on_read(len(self.reads))
        out: list[SourceTransaction] = []
        budget = max_changes
        # A slot's stream starts at the confirmed position, whatever the reader asks, and goes on.
        cursor = self.sent or self.confirmed
        for txn in self.transactions:
            if cursor.covers(txn.position, len(txn.changes) - 1):
                continue
            start = cursor.index if txn.position == cursor.position else 0
            while start < len(txn.changes) and budget > 0:
                part = txn.changes[start : start + budget]
                last = start + len(part) == len(txn.changes)
                out.append(SourceTransaction(txn.position, txn.commit_time, part, start, last))
                start += len(part)
                budget -= len(part)
            if budget <= 0:
                break
        if not out:
            await asyncio.sleep(min(wait_seconds, 0.05))
            return out
        last = out[-1]
        self.sent = AppliedPosition(last.position, last.first_index + len(last.changes), last.last_chunk)
        return out

    async def confirm(self, applied: AppliedPosition) -> None:
        if self.target is not None:
            stored = stored_position(self.target, self.uid)
            assert applied <= stored, f"confirmed {applied} past the target's {stored}"
        self.confirms.append(applied)
        if self.on_confirm is not None:
            self.on_confirm(applied)
        self.confirmed = applied

    async def lag(self, applied: AppliedPosition) -> SourceLag:
        current = self.transactions[-1].position if self.transactions else Position(0)
        return SourceLag(current, max(0, current.major - applied.position.major))

    async def details(self) -> Mapping[str, str]:
        return {"slot": "scripted"}

    async def close(self) -> None:
        return None


def pg_query(db: Database, query: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(db.libpq_dsn(), autocommit=True) as conn:
        return list(conn.execute(query, params or None).fetchall())  # type: ignore[arg-type]


def stored_position(db: Database, uid: str) -> AppliedPosition:
    (row,) = pg_query(
        db,
        "SELECT applied_major, applied_minor, applied_index, applied_complete "
        'FROM ferry."_ferry_replication" WHERE migration_uid = %s',
        uid,
    )
    return AppliedPosition(Position(row[0], row[1]), row[2], row[3])


def table_digest(db: Database, table: str, order: str = "1") -> tuple[int, str]:
    """Row count and an md5 over every row's text, in key order."""
    rows = pg_query(db, f"SELECT t::text FROM {table} t ORDER BY {order}")
    return len(rows), hashlib.md5("\n".join(r[0] for r in rows).encode()).hexdigest()
