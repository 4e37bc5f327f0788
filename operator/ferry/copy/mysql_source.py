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
FETCH_LINES = 5000  # COPY lines per fetch on the server-formatted path (one short bytes value each)
# With a single integer key, the server also joins the lines of up to GROUP_KEYS consecutive keys
# (GROUP_CONCAT over key DIV GROUP_KEYS): PyMySQL then parses one row per group instead of per row,
# which was most of the worker's CPU. A group cut short by group_concat_max_len or
# max_allowed_packet is detected by its line count and fails the batch (never a silent loss).
GROUP_KEYS = 256
FETCH_GROUPS = 20
GROUP_CONCAT_MAX = 1 << 30
T = TypeVar("T")


class MySQLSource:
    def __init__(self, conn: MySQLConnection, projection: Projection) -> None:
        self.conn = conn
        self.projection = projection
        self.mapping = projection.mapping
        self.table = qualified("mysql", self.mapping.source_schema, self.mapping.source_table)
        # The COPY text line the server builds per row; None: rows go through Python (transforms, odd types).
        self.copy_line = None if projection.transformed else copy_line_expression(self.mapping.columns)
        self.grouped = integer_key(self.mapping)

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
        self, query: Predicate, fetch: int, convert: Callable[[list[Any]], T], setup: str | None = None
    ) -> AsyncIterator[T]:
        cursor = self.conn.cursor(pymysql.cursors.SSCursor)
        try:
            if setup is not None:
                await asyncio.to_thread(cursor.execute, setup)
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
        if not self.grouped:
            query = select_rows("mysql", self.table, [self.copy_line], where)
            return self._stream(query, FETCH_LINES, lambda rows: b"\n".join([r[0] for r in rows]) + b"\n")
        key = quote_ident("mysql", self.mapping.key[0])
        sql = (
            f"SELECT COUNT(*), GROUP_CONCAT({self.copy_line} SEPARATOR '\n') FROM {self.table} "
            f"WHERE {where.sql} GROUP BY {key} DIV {GROUP_KEYS}"
        )
        # The separator is a raw line feed inside the quotes, not an escape: same with NO_BACKSLASH_ESCAPES.
        setup = f"SET SESSION group_concat_max_len = {GROUP_CONCAT_MAX}"
        return self._stream(Predicate(sql, where.params), FETCH_GROUPS, self._joined_groups, setup)

    def _joined_groups(self, groups: list[Any]) -> bytes:
        for count, lines in groups:
            if lines is None or lines.count(b"\n") + 1 != count:
                raise SourceError(
                    f"reading {self.mapping.qualified_source}: the server cut a group of {count} rows "
                    "(max_allowed_packet); rows this large need a smaller group"
                )
        return b"\n".join([lines for _, lines in groups]) + b"\n"

    async def count(self) -> int:
        where = and_where(Predicate("TRUE"), self._where())
        row = await asyncio.to_thread(
            self._fetchone, Predicate(f"SELECT COUNT(*) FROM {self.table} WHERE {where.sql}", where.params)
        )
        return int(row[0]) if row else 0
