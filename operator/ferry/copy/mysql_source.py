"""MySQL/MariaDB source: keyset batch bounds, an unbuffered row stream and a COPY-line stream.

PyMySQL is synchronous: each call runs in a thread, so only one chunk of rows is in
memory at a time and the event loop keeps feeding the target meanwhile. Key values are
the driver's values (see ferry.copy.keys), bound as parameters.

Into PostgreSQL, when every column allows it, the server formats each row as a COPY CSV
line (`ferry.copy.mysql_copy_csv`) and the lines are read on a second, asyncmy connection:
its compiled protocol reader took 2.2 s of CPU for 10M one-column rows, where PyMySQL's
per-row parsing was most of the worker's CPU (about 1.5 µs a row). asyncmy reads whatever
the server sends without flow control, so a batch is read as keyset blocks (`ORDER BY key
LIMIT n`, about 4 MB each, the next one read while the last is written): memory stays
bounded by two blocks per unit whatever the batch size. An earlier version let the server
join 256 lines per row with GROUP_CONCAT instead; the GROUP BY sorted every batch and cost
the source server 2.6 s (events, 10M rows) and 4.9 s (orders, 5M rows) of CPU, and the
source server is what limits this path.

Batch bounds of a dense single integer key are key values (`ferry.copy.key_steps`).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any, TypeVar

import asyncmy.errors
import pymysql.cursors

from ferry.copy.batch import Row, SourceError
from ferry.copy.endpoints import (
    MySQLConnection,
    MySQLEndpoint,
    MySQLStreamConnection,
    open_mysql,
    open_mysql_stream,
)
from ferry.copy.key_steps import dense, value_bound
from ferry.copy.keys import Key
from ferry.copy.mysql_copy_csv import copy_line_expression
from ferry.copy.projection import Projection
from ferry.copy.sql import (
    Predicate,
    and_where,
    boundary_query,
    key_list,
    key_range,
    qualified,
    quote_ident,
    select_rows,
)
from ferry.copy.units import integer_key
from ferry.schema.mapping import TableMapping

FETCH_ROWS = 2000
FETCH_LINES = 5000  # CSV lines per fetch from PyMySQL (tables without a key)
# CSV lines per keyset block on the asyncmy connection: up to BLOCK_ROWS, fewer for wide rows so that
# a block stays near BLOCK_BYTES (two blocks are in memory per unit: one written, one read).
BLOCK_ROWS = 20_000
MIN_BLOCK_ROWS = 100
BLOCK_BYTES = 4 << 20
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
        self.stream_conn: MySQLStreamConnection | None = None  # opened at the first CSV batch
        self.block_rows = MIN_BLOCK_ROWS  # CSV lines per keyset block, adapted to the row width
        self.key_steps: bool | None = None  # batches by key value (key_steps); set at the first bound

    @classmethod
    async def open(cls, endpoint: MySQLEndpoint, projection: Projection) -> MySQLSource:
        conn = await open_mysql(endpoint)
        try:
            copy_line = None
            if not projection.transformed:
                charsets = await asyncio.to_thread(_charsets, conn, projection.mapping)
                copy_line = copy_line_expression(projection.mapping.columns, charsets)
            return cls(conn, projection, endpoint, copy_line)
        except BaseException:
            conn.close()
            raise

    async def close(self) -> None:
        if self.stream_conn is not None:
            self.stream_conn.close()
        await asyncio.to_thread(self.conn.close)

    def range(self, lo: Key | None, hi: Key | None) -> Predicate:
        return key_range("mysql", self.mapping.key, [], lo, hi)

    def _fetchone(self, query: Predicate) -> tuple[Any, ...] | None:
        with self.conn.cursor() as cur:
            cur.execute(query.sql, tuple(query.params))
            row = cur.fetchone()
        self.conn.commit()  # end the read snapshot, so each batch sees current data
        return None if row is None else tuple(row)

    async def _key_extent(self, in_range: Predicate) -> tuple[Any, Any]:
        key = quote_ident("mysql", self.mapping.key[0])
        sql = f"SELECT MIN({key}), MAX({key}) FROM {self.table} WHERE {in_range.sql}"
        query = Predicate(sql, in_range.params)
        row = await asyncio.to_thread(self._fetchone, query)
        return (None, None) if row is None else (row[0], row[1])

    async def boundary(self, lo: Key | None, unit_hi: Key | None, batch_size: int) -> Key | None:
        """The key ending the next batch after `lo` (at most `batch_size` rows); None: the rest fits."""
        if self.key_steps is None:
            self.key_steps = integer_key(self.mapping) and dense(
                *await self._key_extent(Predicate("TRUE")), self.mapping.row_estimate
            )
        if not self.key_steps:
            query = boundary_query("mysql", self.table, self.mapping.key, self.range(lo, unit_hi), batch_size)
            return await asyncio.to_thread(self._fetchone, query)
        end = value_bound(lo, *await self._key_extent(self.range(lo, unit_hi)), batch_size)
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
            return self._stream(query, FETCH_LINES, lambda rows: b"\n".join([r[0] for r in rows]) + b"\n")
        return self._csv_blocks(lo, hi)

    async def _csv_blocks(self, lo: Key | None, hi: Key | None) -> AsyncIterator[bytes]:
        """The batch in keyset blocks of about BLOCK_BYTES, the next block read while this one is written.

        asyncmy reads everything the server sends without flow control, so one query per batch
        would hold up to a whole batch in memory; a block is one bounded query instead.
        """
        keys = key_list("mysql", self.mapping.key)
        width = len(self.mapping.key)
        limit = self.block_rows

        async def read(start: Key | None, rows: int) -> list[Any]:
            where = and_where(self.range(start, hi), self._where())
            sql = (
                f"SELECT {keys}, {self.copy_line} FROM {self.table} "
                f"WHERE {where.sql} ORDER BY {keys} LIMIT {rows}"
            )
            if self.stream_conn is None:
                self.stream_conn = await open_mysql_stream(self.endpoint)
            async with self.stream_conn.cursor() as cur:
                await cur.execute(sql, tuple(where.params))
                return list(await cur.fetchall())

        pending: asyncio.Task[list[Any]] | None = asyncio.create_task(read(lo, limit))
        try:
            while pending is not None:
                block, asked = await pending, limit
                pending = None
                if not block:
                    return
                data = b"\n".join([row[width] for row in block]) + b"\n"
                # Rows per block from the bytes of this one; growing at most 4x, so a first block of
                # unknown width is small and the size is learnt for the unit's later batches.
                limit = max(MIN_BLOCK_ROWS, min(BLOCK_ROWS, 4 * asked, asked * BLOCK_BYTES // len(data)))
                self.block_rows = limit
                if len(block) == asked:  # more may follow: read on while this block is written
                    pending = asyncio.create_task(read(tuple(block[-1][:width]), limit))
                yield data
        except asyncmy.errors.MySQLError as exc:
            raise SourceError(f"reading {self.mapping.qualified_source} failed: {exc}") from exc
        finally:
            if pending is not None:  # abandoned mid-batch: the connection's state is unknown
                pending.cancel()
                with contextlib.suppress(BaseException):
                    await pending
                if self.stream_conn is not None:
                    self.stream_conn.close()
                    self.stream_conn = None

    async def count(self) -> int:
        where = and_where(Predicate("TRUE"), self._where())
        row = await asyncio.to_thread(
            self._fetchone, Predicate(f"SELECT COUNT(*) FROM {self.table} WHERE {where.sql}", where.params)
        )
        return int(row[0]) if row else 0


def _charsets(conn: MySQLConnection, mapping: TableMapping) -> dict[str, str | None]:
    """The character set of each column of the source table (None for non-text columns)."""
    schema = "DATABASE()" if mapping.source_schema is None else "%s"
    params = [] if mapping.source_schema is None else [mapping.source_schema]
    with conn.cursor() as cur:
        cur.execute(
            "SELECT COLUMN_NAME, CHARACTER_SET_NAME FROM information_schema.COLUMNS "
            f"WHERE TABLE_SCHEMA = {schema} AND TABLE_NAME = %s",
            (*params, mapping.source_table),
        )
        rows = cur.fetchall()
    conn.commit()
    return {str(name): (str(charset) if charset is not None else None) for name, charset in rows}
