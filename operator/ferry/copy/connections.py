"""Opening one unit's source reader and target writer from the injected endpoints."""

from __future__ import annotations

import asyncio
import contextlib

from ferry.api.migration import OnConflict
from ferry.copy.endpoints import (
    Endpoint,
    MySQLEndpoint,
    PgEndpoint,
    SQLiteEndpoint,
    open_mysql,
    open_pg,
    open_sqlite,
)
from ferry.copy.insert_target import InsertTarget
from ferry.copy.mysql_source import MySQLSource
from ferry.copy.pg_source import PgSource
from ferry.copy.pg_target import PgTarget
from ferry.copy.pg_target import ensure_checkpoint_table as ensure_pg_checkpoints
from ferry.copy.projection import Projection
from ferry.copy.sqlite_source import SQLiteSource

Source = PgSource | MySQLSource | SQLiteSource
Target = PgTarget | InsertTarget


class UnsupportedEndpoint(ValueError):
    pass


async def open_source(endpoint: Endpoint, projection: Projection, bounds_only: bool = False) -> Source:
    """`bounds_only`: the source will only look up batch bounds (the runner's second connection)."""
    if isinstance(endpoint, PgEndpoint):
        conn = await open_pg(endpoint)
        try:
            return await PgSource.open(conn, projection)
        except BaseException:
            await conn.close()
            raise
    if isinstance(endpoint, MySQLEndpoint):
        return await MySQLSource.open(endpoint, projection, bounds_only)
    if isinstance(endpoint, SQLiteEndpoint):
        return await SQLiteSource.open(endpoint, projection)
    raise UnsupportedEndpoint(f"{endpoint.dialect} is not supported as a copy source")


async def close_source(source: Source) -> None:
    with contextlib.suppress(Exception):
        if isinstance(source, PgSource):
            await source.conn.close(timeout=5)
        else:
            await source.close()


async def open_target(endpoint: Endpoint, on_conflict: OnConflict) -> Target:
    if isinstance(endpoint, PgEndpoint):
        return PgTarget(await open_pg(endpoint), on_conflict)
    if isinstance(endpoint, MySQLEndpoint):
        target = InsertTarget(await open_mysql(endpoint), "mysql", on_conflict)
        # Units load in any table order, so a child row may come before its parent: like
        # mysqldump, the load session does not check foreign keys (they are not re-checked later).
        await asyncio.to_thread(target.run_statement, "SET SESSION foreign_key_checks = 0")
        return target
    if isinstance(endpoint, SQLiteEndpoint):
        return InsertTarget(await open_sqlite(endpoint), "sqlite", on_conflict)
    raise UnsupportedEndpoint(f"{endpoint.dialect} is not supported as a copy target")


async def close_target(target: Target) -> None:
    with contextlib.suppress(Exception):
        await target.close()


async def ensure_checkpoint_table(endpoint: Endpoint) -> None:
    target = await open_target(endpoint, OnConflict.ERROR)
    try:
        if isinstance(target, PgTarget):
            await ensure_pg_checkpoints(target.conn)
        else:
            await target.ensure_checkpoint_table()
    finally:
        await close_target(target)
