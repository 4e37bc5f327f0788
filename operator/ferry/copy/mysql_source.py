"""MySQL/MariaDB source: keyset batch bounds, an unbuffered row stream and a COPY-line stream.

PyMySQL is synchronous: each call runs in a thread, so only one chunk of rows is in
memory at a time and the event loop keeps feeding the target meanwhile. Key values are
the driver's values (see ferry.copy.keys), bound as parameters.

Into PostgreSQL, when every column allows it, the server formats each row as a COPY CSV
line (`ferry.copy.mysql_copy_csv`), read in bounded blocks on a second, asyncmy connection
(`ferry.copy.mysql_csv_blocks`). An earlier version let the server join 256 lines per row
with `GROUP_CONCAT … GROUP BY key DIV 256` over PyMySQL; the GROUP BY sorted every batch and
cost the source server, which limits this path, 2.6 s (events, 10M rows) and 4.9 s
(orders, 5M rows) of CPU.

Batch bounds of a dense single integer key are key values (`ferry.copy.key_steps`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence
from typing import Any, TypeVar

import pymysql.cursors

from ferry.copy import mysql_values
from ferry.copy.batch import Row, SourceError
from ferry.copy.endpoints import MySQLConnection, MySQLEndpoint, open_mysql
from ferry.copy.key_steps import KeySteps
from ferry.copy.keys import Key
from ferry.copy.mysql_charsets import charsets_from, charsets_query
from ferry.copy.mysql_copy_csv import copy_line_expression
from ferry.copy.mysql_csv_blocks import CsvBlocks
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
from ferry.schema.mapping import TableMapping

FETCH_ROWS = 2000
FETCH_LINES = 5000  # CSV lines per fetch from PyMySQL (tables without a key)
T = TypeVar("T")


class MySQLSource:
    def __init__(
        self, conn: MySQLConnection, projection: Projection, endpoint: MySQLEndpoint, copy_line: str | None
    ) -> None:
        self.conn = conn
        self.endpoint = endpoint
        self.projection = projection
        self.mapping = projection.mapping
        self.table = qualified("mysql", self.mapping.source_schema, self.mapping.source_table)
        # The CSV line the server builds per row; None: rows go through Python (transforms, odd types).
        self.copy_line = copy_line
        self.blocks = (
            None
            if copy_line is None
            else CsvBlocks(endpoint, self.table, self.mapping, copy_line, self.range, self._where())
        )
        self.steps = KeySteps(self.mapping, self._key_extent)

    @classmethod
    async def open(
        cls, endpoint: MySQLEndpoint, projection: Projection, bounds_only: bool = False
    ) -> MySQLSource:
        """`bounds_only`: a connection that only looks up batch bounds needs no CSV line (nor the
        column character sets it is built from)."""
        conn = await open_mysql(endpoint)
        try:
            copy_line = None
            if not projection.transformed and not bounds_only:
                charsets = await asyncio.to_thread(_charsets, conn, projection.mapping)
                copy_line = copy_line_expression(projection.mapping.columns, charsets)
            return cls(conn, projection, endpoint, copy_line)
        except BaseException:
            conn.close()
            raise

    async def close(self) -> None:
        if self.blocks is not None:
            await self.blocks.close()
        await asyncio.to_thread(self.conn.close)

    def range(self, lo: Key | None, hi: Key | None) -> Predicate:
        return key_range("mysql", self.mapping.key, [], lo, hi)

    def _fetchone(self, query: Predicate) -> tuple[Any, ...] | None:
        with self.conn.cursor() as cur:
            cur.execute(query.sql, tuple(query.params))
            row = cur.fetchone()
        self.conn.commit()  # end the read snapshot, so each batch sees current data
        return None if row is None else tuple(row)

    async def _key_extent(self, in_range: Predicate) -> tuple[object, object]:
        key = quote_ident("mysql", self.mapping.key[0])
        sql = f"SELECT MIN({key}), MAX({key}) FROM {self.table} WHERE {in_range.sql}"
        query = Predicate(sql, in_range.params)
        row = await asyncio.to_thread(self._fetchone, query)
        return (None, None) if row is None else (row[0], row[1])

    async def boundary(self, lo: Key | None, unit_hi: Key | None, batch_size: int) -> Key | None:
        """The key ending the next batch after `lo` (at most `batch_size` rows); None: the rest fits."""
        if not await self.steps.dense_key():
            query = boundary_query("mysql", self.table, self.mapping.key, self.range(lo, unit_hi), batch_size)
            return await asyncio.to_thread(self._fetchone, query)
        end = await self.steps.bound(lo, self.range(lo, unit_hi), batch_size)
        return None if end is None else (end,)

    def _where(self) -> str | None:
        # Both drivers format the statement with `%`: a literal percent in the user's filter is doubled.
        return self.mapping.where.replace("%", "%%") if self.mapping.where else None

    def batch_query(self, lo: Key | None, hi: Key | None) -> Predicate:
        where = and_where(self.range(lo, hi), self._where())
        return select_rows("mysql", self.table, self.projection.source_select, where)

    async def _stream(
        self, query: Predicate, fetch: int, convert: Callable[[list[Any]], T]
    ) -> AsyncIterator[T]:
        cursor = self.conn.cursor(pymysql.cursors.SSCursor)
        try:
            await asyncio.to_thread(cursor.execute, query.sql, tuple(query.params))
            while rows := await asyncio.to_thread(cursor.fetchmany, fetch):
                yield convert(rows)
        except pymysql.err.MySQLError as exc:
            raise SourceError(f"reading {self.mapping.qualified_source} failed: {exc}") from exc
        finally:
            try:
                await asyncio.to_thread(cursor.close)  # drains what the target did not take
                await asyncio.to_thread(self.conn.commit)
            except pymysql.err.MySQLError:
                pass

    def row_chunks(self, lo: Key | None, hi: Key | None) -> AsyncIterator[Sequence[Row]]:
        apply = self.projection.apply
        query = self.batch_query(lo, hi)
        return self._stream(query, FETCH_ROWS, lambda rows: [apply(tuple(r)) for r in rows])

    def copy_csv_chunks(self, lo: Key | None, hi: Key | None) -> AsyncIterator[bytes]:
        """The batch as COPY CSV lines formatted by the server; needs `copy_line`."""
        assert self.copy_line is not None
        if not self.mapping.key:  # one batch for the whole table: PyMySQL reads on demand
            where = and_where(self.range(lo, hi), self._where())
            query = select_rows("mysql", self.table, [self.copy_line], where)
            chunks = self._stream(query, FETCH_LINES, lambda rows: b"\n".join([r[0] for r in rows]) + b"\n")
        else:
            chunks = self._csv_lines(lo, hi)
        if any(c.zero_dates_error for c in self.mapping.columns):
            return _refusing_zero_dates(chunks)
        return chunks

    async def _csv_lines(self, lo: Key | None, hi: Key | None) -> AsyncIterator[bytes]:
        assert self.blocks is not None
        extent = None
        if await self.steps.dense_key():
            low, high = await self._key_extent(self.range(lo, hi))
            if high is None:
                return  # no rows left in the batch
            extent = (int(str(low)), int(str(high)))
        async with contextlib.aclosing(self.blocks.lines(lo, hi, extent)) as lines:
            async for chunk in lines:
                yield chunk

    async def count(self) -> int:
        where = and_where(Predicate("TRUE"), self._where())
        row = await asyncio.to_thread(
            self._fetchone, Predicate(f"SELECT COUNT(*) FROM {self.table} WHERE {where.sql}", where.params)
        )
        return int(row[0]) if row else 0


async def _refusing_zero_dates(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """The blocks of lines, failing at the first zero-date marker (zeroDates: error) before the
    block reaches the target (ferry.copy.mysql_values)."""
    try:
        async for chunk in chunks:
            column = mysql_values.marked_column(chunk)
            if column is not None:
                raise mysql_values.ZeroDateFound(column)
            yield chunk
    finally:
        if isinstance(chunks, AsyncGenerator):
            await chunks.aclose()


def _charsets(conn: MySQLConnection, mapping: TableMapping) -> dict[str, str | None]:
    """The character set of each column of the source table (None for non-text columns)."""
    sql, params = charsets_query(mapping)
    with conn.cursor() as cur:
        cur.execute(sql, tuple(params))
        rows = cur.fetchall()
    conn.commit()
    return charsets_from(rows)
