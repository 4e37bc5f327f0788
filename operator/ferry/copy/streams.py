"""Streaming reads of a query's rows in chunks, per dialect, with memory bounded by a chunk.

Used by validation; the copy's own reads live in pg_source / mysql_source / sqlite_source.
MySQL/MariaDB rows are read by asyncmy (compiled), as the copy's bulk reads are: PyMySQL's
pure-Python protocol took 4.6 µs per row of a key and a JSON value, asyncmy 0.9 µs, with the
same Python values (both decode with PyMySQL's converters; a zero date stays its text).
Inside ferry.copy.reused_sessions' block a query takes a session an earlier one finished with.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Sequence
from typing import Any

import asyncmy.cursors

from ferry.copy.endpoints import Endpoint, MySQLEndpoint, PgEndpoint, open_mysql_stream, open_pg, open_sqlite
from ferry.copy.reused_sessions import session

CHUNK = 2000


async def stream_rows(
    endpoint: Endpoint, sql: str, params: Sequence[object] = ()
) -> AsyncGenerator[list[tuple[Any, ...]], None]:
    if isinstance(endpoint, PgEndpoint):
        async with session(endpoint, open_pg) as conn, conn.transaction(readonly=True):
            cursor = await conn.cursor(sql, *params)
            while rows := await cursor.fetch(CHUNK):
                yield [tuple(r) for r in rows]
    elif isinstance(endpoint, MySQLEndpoint):
        async with (
            session(endpoint, open_mysql_stream) as aconn,
            aconn.cursor(asyncmy.cursors.SSCursor) as cur,
        ):
            await cur.execute(sql, tuple(params))
            while rows := await cur.fetchmany(CHUNK):
                yield [tuple(r) for r in rows]
    else:
        sconn = await open_sqlite(endpoint)
        try:
            scur = await asyncio.to_thread(sconn.execute, sql, tuple(params))
            while rows := await asyncio.to_thread(scur.fetchmany, CHUNK):
                yield [tuple(r) for r in rows]
            scur.close()
        finally:
            sconn.close()


async def first_row(endpoint: Endpoint, sql: str, params: Sequence[object] = ()) -> tuple[Any, ...] | None:
    """The query's first row (None: no row), its session closed (or given back) before this returns."""
    async with contextlib.aclosing(stream_rows(endpoint, sql, params)) as chunks:
        async for rows in chunks:
            return rows[0] if rows else None
    return None


async def scalar(endpoint: Endpoint, sql: str, params: Sequence[object] = ()) -> Any:
    row = await first_row(endpoint, sql, params)
    return row[0] if row else None
