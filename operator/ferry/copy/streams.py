"""Streaming reads of a query's rows in chunks, per dialect, with memory bounded by a chunk.

Used by validation; the copy's own reads live in pg_source / mysql_source / sqlite_source.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, Sequence
from typing import Any

import pymysql.cursors

from ferry.copy.endpoints import Endpoint, MySQLEndpoint, PgEndpoint, open_mysql, open_pg, open_sqlite

CHUNK = 2000


async def stream_rows(
    endpoint: Endpoint, sql: str, params: Sequence[object] = ()
) -> AsyncGenerator[list[tuple[Any, ...]], None]:
    if isinstance(endpoint, PgEndpoint):
        conn = await open_pg(endpoint)
        try:
            async with conn.transaction(readonly=True):
                cursor = await conn.cursor(sql, *params)
                while rows := await cursor.fetch(CHUNK):
                    yield [tuple(r) for r in rows]
        finally:
            await conn.close()
    elif isinstance(endpoint, MySQLEndpoint):
        mconn = await open_mysql(endpoint)
        try:
            cur = mconn.cursor(pymysql.cursors.SSCursor)
            await asyncio.to_thread(cur.execute, sql, tuple(params))
            while rows := await asyncio.to_thread(cur.fetchmany, CHUNK):
                yield [tuple(r) for r in rows]
            await asyncio.to_thread(cur.close)
        finally:
            await asyncio.to_thread(mconn.close)
    else:
        sconn = await open_sqlite(endpoint)
        try:
            scur = await asyncio.to_thread(sconn.execute, sql, tuple(params))
            while rows := await asyncio.to_thread(scur.fetchmany, CHUNK):
                yield [tuple(r) for r in rows]
            scur.close()
        finally:
            sconn.close()


async def scalar(endpoint: Endpoint, sql: str, params: Sequence[object] = ()) -> Any:
    async with contextlib.aclosing(stream_rows(endpoint, sql, params)) as chunks:
        async for rows in chunks:
            return rows[0][0] if rows else None
    return None
