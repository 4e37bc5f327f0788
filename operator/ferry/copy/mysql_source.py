"""MySQL/MariaDB source: keyset batch bounds and an unbuffered (SSCursor) row stream.

PyMySQL is synchronous: each fetch runs in a thread, so only one chunk of rows is in
memory at a time and the event loop keeps feeding the target meanwhile. Key values are
the driver's values (see ferry.copy.keys), bound as parameters.

Into PostgreSQL, when every column allows it, the server formats each row as a COPY text
line (`ferry.copy.mysql_copy_text`) and `copy_text_chunks` only joins lines: PyMySQL's
per-value decoding was the bottleneck of this path.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any, TypeVar

import pymysql.cursors

from ferry.copy.batch import Row, SourceError
from ferry.copy.endpoints import MySQLConnection
from ferry.copy.keys import Key
from ferry.copy.mysql_copy_text import copy_line_expression
from ferry.copy.projection import Projection
from ferry.copy.sql import Predicate, and_where, boundary_query, key_range, qualified, select_rows

FETCH_ROWS = 2000
FETCH_LINES = 5000  # COPY lines per fetch on the server-formatted path (one short bytes value each)
T = TypeVar("T")


class MySQLSource:
    def __init__(self, conn: MySQLConnection, projection: Projection) -> None:
        self.conn = conn
        self.projection = projection
        self.mapping = projection.mapping
        self.table = qualified("mysql", self.mapping.source_schema, self.mapping.source_table)
        # The COPY text line the server builds per row; None: rows go through Python (transforms, odd types).
        self.copy_line = None if projection.transformed else copy_line_expression(self.mapping.columns)

    def range(self, lo: Key | None, hi: Key | None) -> Predicate:
        return key_range("mysql", self.mapping.key, [], lo, hi)

    def _fetchone(self, query: Predicate) -> tuple[Any, ...] | None:
        with self.conn.cursor() as cur:
            cur.execute(query.sql, tuple(query.params))
            row = cur.fetchone()
        self.conn.commit()  # end the read snapshot, so each batch sees current data
        return None if row is None else tuple(row)

    async def boundary(self, lo: Key | None, unit_hi: Key | None, batch_size: int) -> Key | None:
        query = boundary_query("mysql", self.table, self.mapping.key, self.range(lo, unit_hi), batch_size)
        return await asyncio.to_thread(self._fetchone, query)

    def _where(self) -> str | None:
        # PyMySQL formats the statement with `%`: a literal percent in the user's filter is doubled.
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

    def copy_text_chunks(self, lo: Key | None, hi: Key | None) -> AsyncIterator[bytes]:
        """COPY text (format text) of the batch, formatted by the server; needs `copy_line`."""
        assert self.copy_line is not None
        where = and_where(self.range(lo, hi), self._where())
        query = select_rows("mysql", self.table, [self.copy_line], where)
        return self._stream(query, FETCH_LINES, lambda rows: b"\n".join([r[0] for r in rows]) + b"\n")

    async def count(self) -> int:
        where = and_where(Predicate("TRUE"), self._where())
        row = await asyncio.to_thread(
            self._fetchone, Predicate(f"SELECT COUNT(*) FROM {self.table} WHERE {where.sql}", where.params)
        )
        return int(row[0]) if row else 0
