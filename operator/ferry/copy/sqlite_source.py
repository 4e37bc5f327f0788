"""SQLite source: keyset batch bounds and row reads from a database file.

The stdlib driver is synchronous: each call runs in a thread (`asyncio.to_thread`), one
call at a time per connection, so the event loop keeps feeding the target meanwhile; the
runner's second source (the bounds lookups) is a connection of its own. A local file
needs no async driver. Each batch is one SELECT, which SQLite reads from one snapshot;
its cursor is closed at the end of the batch, releasing the file's read lock. The
connection runs with `query_only`: a source is never written.

Key values are the driver's (int, float, str, bytes), bound as `?` parameters; ORDER BY
and the range predicates use the same SQLite comparison (NULL < numbers < text < blobs,
the column's collation for text), so batches tile the key order whatever the stored types.

Batch bounds by key value (`ferry.copy.key_steps`) only when the key is a single integer
column whose smallest and largest values are integers: a column declared INT that is not
the rowid may also hold text, which sorts after every number and would break the
arithmetic. Otherwise bounds come from the `LIMIT 1 OFFSET n-1` walk.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Sequence
from typing import Any

from ferry.copy.batch import Row, SourceError
from ferry.copy.endpoints import SQLiteEndpoint, open_sqlite
from ferry.copy.key_steps import KeySteps, dense
from ferry.copy.keys import Key
from ferry.copy.projection import Projection
from ferry.copy.sql import (
    Predicate,
    and_where,
    boundary_query,
    key_range,
    qualified,
    quote_ident,
    select_rows,
)
from ferry.copy.units import integer_key

FETCH_ROWS = 2000


class SQLiteSource:
    def __init__(self, conn: sqlite3.Connection, projection: Projection) -> None:
        self.conn = conn
        self.projection = projection
        self.mapping = projection.mapping
        # One file is one schema ("main"): the mapping's source schema is not part of the name.
        self.table = qualified("sqlite", None, self.mapping.source_table)
        self.steps = KeySteps(self.mapping, self._key_extent)

    @classmethod
    async def open(cls, endpoint: SQLiteEndpoint, projection: Projection) -> SQLiteSource:
        conn = await open_sqlite(endpoint)
        try:
            await asyncio.to_thread(conn.execute, "PRAGMA query_only = ON")
            return cls(conn, projection)
        except BaseException:
            conn.close()
            raise

    async def close(self) -> None:
        await asyncio.to_thread(self.conn.close)

    def range(self, lo: Key | None, hi: Key | None) -> Predicate:
        return key_range("sqlite", self.mapping.key, [], lo, hi)

    def _fetchone(self, query: Predicate) -> tuple[Any, ...] | None:
        row = self.conn.execute(query.sql, tuple(query.params)).fetchone()
        return None if row is None else tuple(row)

    async def _one(self, query: Predicate) -> tuple[Any, ...] | None:
        try:
            return await asyncio.to_thread(self._fetchone, query)
        except sqlite3.Error as exc:
            raise SourceError(f"reading {self.mapping.qualified_source} failed: {exc}") from exc

    async def _key_extent(self, in_range: Predicate) -> tuple[object, object]:
        # Integers: only asked once `_dense_key` found the key's extreme values to be integers
        # (a REAL key between them is truncated; any increasing integer bounds tile the range).
        key = quote_ident("sqlite", self.mapping.key[0])
        extremes = f"CAST(min({key}) AS INTEGER), CAST(max({key}) AS INTEGER)"
        sql = f"SELECT {extremes} FROM {self.table} WHERE {in_range.sql}"
        row = await self._one(Predicate(sql, in_range.params))
        return (None, None) if row is None else (row[0], row[1])

    async def _dense_key(self) -> bool:
        if self.steps.by_value is None:
            by_value = False
            if integer_key(self.mapping):
                key = quote_ident("sqlite", self.mapping.key[0])
                row = await self._one(Predicate(f"SELECT min({key}), max({key}) FROM {self.table}"))
                low, high = (None, None) if row is None else row
                integers = all(v is None or isinstance(v, int) for v in (low, high))
                by_value = integers and dense(low, high, self.mapping.row_estimate)
            self.steps.by_value = by_value
        return self.steps.by_value

    async def boundary(self, lo: Key | None, unit_hi: Key | None, batch_size: int) -> Key | None:
        """The key ending the next batch after `lo` (at most `batch_size` rows); None: the rest fits."""
        if not await self._dense_key():
            query = boundary_query(
                "sqlite", self.table, self.mapping.key, self.range(lo, unit_hi), batch_size
            )
            return await self._one(query)
        end = await self.steps.bound(lo, self.range(lo, unit_hi), batch_size)
        return None if end is None else (end,)

    def batch_query(self, lo: Key | None, hi: Key | None) -> Predicate:
        where = and_where(self.range(lo, hi), self.mapping.where)
        return select_rows("sqlite", self.table, self.projection.source_select, where)

    async def row_chunks(self, lo: Key | None, hi: Key | None) -> AsyncIterator[Sequence[Row]]:
        query = self.batch_query(lo, hi)
        apply = self.projection.apply
        cursor: sqlite3.Cursor | None = None
        try:
            cursor = await asyncio.to_thread(self.conn.execute, query.sql, tuple(query.params))
            while rows := await asyncio.to_thread(cursor.fetchmany, FETCH_ROWS):
                yield [apply(tuple(r)) for r in rows]
        except sqlite3.Error as exc:
            raise SourceError(f"reading {self.mapping.qualified_source} failed: {exc}") from exc
        finally:
            if cursor is not None:
                await asyncio.to_thread(cursor.close)  # ends the statement and its read snapshot

    async def count(self) -> int:
        where = and_where(Predicate("TRUE"), self.mapping.where)
        row = await self._one(Predicate(f"SELECT count(*) FROM {self.table} WHERE {where.sql}"))
        return int(row[0]) if row else 0
