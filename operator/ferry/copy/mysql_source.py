"""MySQL/MariaDB source: keyset batch bounds and an unbuffered (SSCursor) row stream.

PyMySQL is synchronous: each fetch runs in a thread, so only one chunk of rows is in
memory at a time and the event loop keeps feeding the target meanwhile. Key values are
the driver's values (see ferry.copy.keys), bound as parameters.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pymysql.cursors

from ferry.copy.batch import Row, SourceError
from ferry.copy.endpoints import MySQLConnection
from ferry.copy.keys import Key
from ferry.copy.projection import Projection
from ferry.copy.sql import Predicate, and_where, boundary_query, key_range, qualified, select_rows

FETCH_ROWS = 2000


class MySQLSource:
    def __init__(self, conn: MySQLConnection, projection: Projection) -> None:
        self.conn = conn
        self.projection = projection
        self.mapping = projection.mapping
        self.table = qualified("mysql", self.mapping.source_schema, self.mapping.source_table)

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

    async def row_chunks(self, lo: Key | None, hi: Key | None) -> AsyncIterator[Sequence[Row]]:
        query = self.batch_query(lo, hi)
        cursor = self.conn.cursor(pymysql.cursors.SSCursor)
        try:
            await asyncio.to_thread(cursor.execute, query.sql, tuple(query.params))
            while rows := await asyncio.to_thread(cursor.fetchmany, FETCH_ROWS):
                yield [self.projection.apply(tuple(r)) for r in rows]
        except pymysql.err.MySQLError as exc:
            raise SourceError(f"reading {self.mapping.qualified_source} failed: {exc}") from exc
        finally:
            try:
                await asyncio.to_thread(cursor.close)  # drains what the target did not take
                await asyncio.to_thread(self.conn.commit)
            except pymysql.err.MySQLError:
                pass

    async def count(self) -> int:
        where = and_where(Predicate("TRUE"), self._where())
        row = await asyncio.to_thread(
            self._fetchone, Predicate(f"SELECT COUNT(*) FROM {self.table} WHERE {where.sql}", where.params)
        )
        return int(row[0]) if row else 0
