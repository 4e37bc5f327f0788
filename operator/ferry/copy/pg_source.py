"""PostgreSQL source: batch bounds by keyset, COPY TO STDOUT streams, and row reads.

Batch bounds of a dense single integer key are key values (`ferry.copy.key_steps`).

Pass-through streams `COPY (SELECT …) TO STDOUT` chunks (35 to 47 KB each, straight from
asyncpg's buffers) through a small bounded queue into the target's COPY FROM STDIN:
0.94 times the raw `psql | psql` pipe in copy-speed.md. A failure of the source COPY is
re-raised inside the stream, so the target's COPY and transaction abort.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from typing import Literal

from ferry.copy.batch import Row, SourceError
from ferry.copy.endpoints import PgConnection
from ferry.copy.key_steps import KeySteps
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
    source_relation,
)

QUEUE_CHUNKS = 8
FETCH_ROWS = 2000


async def key_types(conn: PgConnection, table: str, key: Sequence[str]) -> list[str]:
    rows = await conn.fetch(
        "SELECT attname, format_type(atttypid, NULL) AS type FROM pg_attribute "
        "WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped",
        table,
    )
    types = {r["attname"]: r["type"] for r in rows}
    return [types[k] for k in key]


class PgSource:
    def __init__(self, conn: PgConnection, projection: Projection, types: Sequence[str]) -> None:
        self.conn = conn
        self.projection = projection
        self.mapping = projection.mapping
        m = self.mapping
        self.table = source_relation("postgresql", m.source_schema, m.source_table, m.source_only)
        self.types = list(types)
        self.steps = KeySteps(self.mapping, self._key_extent)

    @classmethod
    async def open(cls, conn: PgConnection, projection: Projection) -> PgSource:
        m = projection.mapping
        types = await key_types(conn, qualified("postgresql", m.source_schema, m.source_table), m.key)
        return cls(conn, projection, types)

    def range(self, lo: Key | None, hi: Key | None) -> Predicate:
        return key_range("postgresql", self.mapping.key, self.types, lo, hi)

    async def boundary(self, lo: Key | None, unit_hi: Key | None, batch_size: int) -> Key | None:
        """The key ending the next batch after `lo` (at most `batch_size` rows); None when the rest fits."""
        if not await self.steps.dense_key():
            query = boundary_query(
                "postgresql", self.table, self.mapping.key, self.range(lo, unit_hi), batch_size
            )
            row = await self.conn.fetchrow(query.sql)
            return None if row is None else tuple(row)
        end = await self.steps.bound(lo, self.range(lo, unit_hi), batch_size)
        return None if end is None else (str(end),)  # PostgreSQL keys travel as text

    async def _key_extent(self, in_range: Predicate) -> tuple[object, object]:
        key = quote_ident("postgresql", self.mapping.key[0])
        row = await self.conn.fetchrow(
            f"SELECT min({key})::text, max({key})::text FROM {self.table} WHERE {in_range.sql}"
        )
        return (None, None) if row is None else (row[0], row[1])

    def batch_query(self, lo: Key | None, hi: Key | None) -> str:
        where = and_where(self.range(lo, hi), self.mapping.where)
        return select_rows("postgresql", self.table, self.projection.source_select, where).sql

    async def copy_chunks(
        self, lo: Key | None, hi: Key | None, fmt: Literal["binary", "text"]
    ) -> AsyncIterator[bytes]:
        queue: asyncio.Queue[bytes | BaseException | None] = asyncio.Queue(maxsize=QUEUE_CHUNKS)

        async def output(chunk: bytes) -> None:
            await queue.put(chunk)

        async def produce() -> None:
            try:
                await self.conn.copy_from_query(self.batch_query(lo, hi), output=output, format=fmt)
            except Exception as exc:  # handed to the consumer, which raises it inside the target COPY
                await queue.put(exc)
                return
            await queue.put(None)

        task = asyncio.create_task(produce())
        try:
            while (item := await queue.get()) is not None:
                if isinstance(item, BaseException):
                    raise SourceError(f"reading {self.mapping.qualified_source} failed: {item}") from item
                yield item
        finally:
            if not task.done():
                task.cancel()
                with contextlib.suppress(BaseException):
                    await task

    async def row_chunks(self, lo: Key | None, hi: Key | None) -> AsyncIterator[Sequence[Row]]:
        try:
            async with self.conn.transaction(readonly=True):
                cursor = await self.conn.cursor(self.batch_query(lo, hi))
                while rows := await cursor.fetch(FETCH_ROWS):
                    yield [self.projection.apply(tuple(r)) for r in rows]
        except Exception as exc:
            raise SourceError(f"reading {self.mapping.qualified_source} failed: {exc}") from exc

    async def count(self) -> int:
        where = and_where(Predicate("TRUE"), self.mapping.where)
        value = await self.conn.fetchval(f"SELECT count(*) FROM {self.table} WHERE {where.sql}")
        return int(value)
