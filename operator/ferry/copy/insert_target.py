"""MySQL/MariaDB and SQLite targets: multi-row INSERT and the checkpoint in one transaction.

The drivers are synchronous; each call runs in a thread (`asyncio.to_thread`), one call
at a time per connection, so the event loop keeps streaming the source meanwhile.
PyMySQL's `executemany` folds `INSERT … VALUES (…)` into multi-row statements of up to
about 1 MB; SQLite's runs one prepared statement. onConflict: MySQL `ON DUPLICATE KEY
UPDATE`, SQLite `INSERT OR IGNORE` / `ON CONFLICT (key) DO UPDATE`.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import uuid
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from ferry.api.migration import OnConflict
from ferry.copy.batch import BatchWrite, Checkpoint, ConcurrentWriter, Payload, Row, RowChunks
from ferry.copy.checkpoint_sql import checkpoint_sql
from ferry.copy.sql import Dialect, qualified, quote_ident
from ferry.copy.units import UnitMismatch, WorkUnit


def _driver_value(dialect: Dialect) -> Callable[[object], object]:
    def convert(v: object) -> object:
        if isinstance(v, dt.datetime) and v.tzinfo is not None:
            v = v.astimezone(dt.UTC).replace(tzinfo=None)
        if isinstance(v, dict | list):
            return json.dumps(v, ensure_ascii=False)
        if isinstance(v, uuid.UUID):
            return str(v)
        if isinstance(v, memoryview | bytearray):
            return bytes(v)
        if dialect == "sqlite":
            if isinstance(v, Decimal):
                return str(v)
            if isinstance(v, dt.datetime):
                return v.isoformat(sep=" ")
            if isinstance(v, dt.date | dt.time | dt.timedelta):
                return str(v)
        return v

    return convert


def insert_sql(dialect: Dialect, unit: WorkUnit, on_conflict: OnConflict) -> str:
    mapping = unit.mapping
    table = qualified(dialect, mapping.target_schema, mapping.target_table)
    columns = [c.target for c in mapping.columns]
    cols = ", ".join(quote_ident(dialect, c) for c in columns)
    mark = "%s" if dialect == "mysql" else "?"
    values = "(" + ", ".join([mark] * len(columns)) + ")"
    by_source = {c.source: c.target for c in mapping.columns}
    keys = [by_source.get(k, k) for k in mapping.key]
    updates = [c for c in columns if c not in keys] or columns[:1]

    def q(name: str) -> str:
        return quote_ident(dialect, name)

    if dialect == "mysql":
        sql = f"INSERT INTO {table} ({cols}) VALUES {values}"
        if on_conflict == OnConflict.SKIP:
            return sql + f" ON DUPLICATE KEY UPDATE {q(columns[0])} = {q(columns[0])}"
        if on_conflict == OnConflict.UPDATE:
            return sql + " ON DUPLICATE KEY UPDATE " + ", ".join(f"{q(c)} = VALUES({q(c)})" for c in updates)
        return sql
    if on_conflict == OnConflict.SKIP or (on_conflict == OnConflict.UPDATE and not keys):
        return f"INSERT OR IGNORE INTO {table} ({cols}) VALUES {values}"
    sql = f"INSERT INTO {table} ({cols}) VALUES {values}"
    if on_conflict == OnConflict.UPDATE:
        conflict = ", ".join(q(k) for k in keys)
        sql += f" ON CONFLICT ({conflict}) DO UPDATE SET " + ", ".join(
            f"{q(c)} = excluded.{q(c)}" for c in updates
        )
    return sql


class InsertTarget:
    def __init__(self, conn: Any, dialect: Dialect, on_conflict: OnConflict) -> None:
        self.conn = conn
        self.dialect = dialect
        self.on_conflict = on_conflict
        self.sql = checkpoint_sql(dialect)
        self.convert = _driver_value(dialect)

    def _run(self, statement: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        cur = self.conn.cursor()
        try:
            cur.execute(statement, tuple(params))
            return list(cur.fetchall()) if cur.description else []
        finally:
            cur.close()

    def run_statement(self, statement: str) -> None:
        self._run(statement)

    def _executemany(self, statement: str, rows: Sequence[Row]) -> None:
        cur = self.conn.cursor()
        try:
            cur.executemany(statement, [tuple(self.convert(v) for v in row) for row in rows])
        finally:
            cur.close()

    def _begin(self) -> None:
        self._run("BEGIN IMMEDIATE" if self.dialect == "sqlite" else "BEGIN")

    def _commit(self) -> None:
        self._run("COMMIT")

    def _rollback(self) -> None:
        with contextlib.suppress(Exception):  # the connection may be gone, and the transaction with it
            self._run("ROLLBACK")

    async def ensure_checkpoint_table(self) -> None:
        def create() -> None:
            for statement in self.sql.create:
                self._run(statement)
            if self.dialect == "mysql":
                self._commit()

        await asyncio.to_thread(create)

    async def open_unit(self, migration_uid: str, unit: WorkUnit) -> Checkpoint:
        bounds = unit.bounds_text()

        def read() -> list[tuple[Any, ...]]:
            self._begin()
            self._run(self.sql.insert_absent, (migration_uid, unit.unit_id, bounds))
            rows = self._run(self.sql.read, (migration_uid, unit.unit_id))
            self._commit()
            return rows

        (stored, last_key, rows_copied, done), *_ = await asyncio.to_thread(read)
        if stored != bounds:
            raise UnitMismatch(f"unit {unit.unit_id} was started with other bounds; the unit list changed")
        return Checkpoint(last_key, int(rows_copied), bool(done))

    async def write_batch(self, unit: WorkUnit, write: BatchWrite, payload: Payload) -> int:
        if not isinstance(payload, RowChunks):
            raise TypeError("an INSERT target takes rows, not COPY data")
        statement = insert_sql(self.dialect, unit, self.on_conflict)
        rows = 0
        await asyncio.to_thread(self._begin)
        try:
            lock = await asyncio.to_thread(self._run, self.sql.lock, (write.migration_uid, write.unit_id))
            if not lock or lock[0][1] or lock[0][0] != write.expected_last_key:
                raise ConcurrentWriter(
                    f"the checkpoint of unit {write.unit_id} moved: another worker copies it"
                )
            async for chunk in payload.chunks:
                await asyncio.to_thread(self._executemany, statement, chunk)
                rows += len(chunk)
            params = (write.new_last_key, rows, write.done, write.migration_uid, write.unit_id)
            await asyncio.to_thread(self._run, self.sql.advance, params)
            await asyncio.to_thread(self._commit)
        except BaseException:
            await asyncio.shield(asyncio.to_thread(self._rollback))
            raise
        return rows

    async def close(self) -> None:
        await asyncio.to_thread(self.conn.close)
