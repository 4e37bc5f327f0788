"""How the copy engine reaches the databases: injected connection factories, one per dialect.

The engine never builds URLs or reads Secrets for connections: the worker and the CLI
hand it factories (built by ferry.db or by `ferry.cli.run`). Each unit opens its own
connections, so units run concurrently, and sets the session state the engine relies on
(`prepare_*`): UTC time zones (naive timestamps mean UTC on both sides, timestamptz text
is stable in checkpoints) and standard string literals on PostgreSQL.
"""

from __future__ import annotations

import asyncio
import sqlite3
import urllib.parse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeAlias

import asyncmy
import asyncpg
import pymysql

from ferry.api.connection import DatabaseConnectionSpec
from ferry.copy.sql import Dialect
from ferry.db.credentials import Credentials
from ferry.db.dialects import Family, family
from ferry.db.engines import asyncmy_connect_kwargs, asyncpg_connect_kwargs, pymysql_connect_kwargs

PgConnection: TypeAlias = "asyncpg.Connection[Any]"  # generic only in the stubs
MySQLConnection: TypeAlias = Any  # pymysql.connections.Connection (untyped)
MySQLStreamConnection: TypeAlias = Any  # asyncmy.connection.Connection (compiled, untyped)


@dataclass(frozen=True)
class PgEndpoint:
    connect: Callable[[], Awaitable[PgConnection]]
    dialect: Dialect = "postgresql"


@dataclass(frozen=True)
class MySQLEndpoint:
    """MySQL or MariaDB: `connect` returns a PyMySQL connection (autocommit off), `stream` an
    asyncmy connection to the same database (autocommit on), for the bulk reads of the copy."""

    connect: Callable[[], MySQLConnection]
    stream: Callable[[], Awaitable[MySQLStreamConnection]]
    dialect: Dialect = "mysql"


@dataclass(frozen=True)
class SQLiteEndpoint:
    """`connect` must pass check_same_thread=False: driver calls run in worker threads."""

    connect: Callable[[], sqlite3.Connection]
    dialect: Dialect = "sqlite"


Endpoint = PgEndpoint | MySQLEndpoint | SQLiteEndpoint


@dataclass(frozen=True)
class Endpoints:
    source: Endpoint
    target: Endpoint


# row_security = off: a read that a row-level security policy would filter fails ("query would
# be affected by row-level security policy") instead of copying or counting part of a table
# without a word, as pg_dump does. The owner of a table (and a BYPASSRLS role) reads all rows.
PG_SESSION = (
    "SET TimeZone = 'UTC'; SET DateStyle = 'ISO, MDY'; SET standard_conforming_strings = on; "
    "SET row_security = off"
)
MYSQL_SESSION = ("SET time_zone = '+00:00'", "SET NAMES utf8mb4")
MYSQL_READ_ONLY = "SET SESSION TRANSACTION READ ONLY"


async def open_pg(endpoint: PgEndpoint) -> PgConnection:
    conn = await endpoint.connect()
    await conn.execute(PG_SESSION)
    return conn


def _open_mysql_sync(endpoint: MySQLEndpoint) -> MySQLConnection:
    conn = endpoint.connect()
    with conn.cursor() as cur:
        for statement in MYSQL_SESSION:
            cur.execute(statement)
    conn.commit()
    return conn


async def open_mysql(endpoint: MySQLEndpoint) -> MySQLConnection:
    return await asyncio.to_thread(_open_mysql_sync, endpoint)


async def open_mysql_stream(endpoint: MySQLEndpoint) -> MySQLStreamConnection:
    conn = await endpoint.stream()
    try:
        async with conn.cursor() as cur:
            for statement in MYSQL_SESSION:
                await cur.execute(statement)
    except BaseException:
        conn.close()
        raise
    return conn


async def open_sqlite(endpoint: SQLiteEndpoint) -> sqlite3.Connection:
    conn = await asyncio.to_thread(endpoint.connect)
    conn.isolation_level = None  # the engine issues BEGIN/COMMIT itself
    return conn


def endpoint_from_spec(
    spec: DatabaseConnectionSpec, credentials: Credentials, *, read_only: bool = False
) -> Endpoint:
    """Connection factories for a DatabaseConnection, from ferry.db's driver keyword builders (with TLS).

    `read_only`: every session is read-only from its first statement (a source: the copy, its
    counts and its checksums only read, so a `where` filter that calls a writing function fails
    with the engine's read-only error instead of writing to the source). Set at connect time
    (PostgreSQL `default_transaction_read_only` in the startup packet, MySQL `init_command`,
    SQLite `mode=ro`), so no code path can forget it.
    """
    engine_family = family(spec.engine)
    if engine_family is Family.POSTGRESQL:
        pg_kwargs = asyncpg_connect_kwargs(spec, credentials)
        if read_only:
            pg_kwargs["server_settings"] = {
                **pg_kwargs["server_settings"],
                "default_transaction_read_only": "on",
            }

        async def connect_pg() -> PgConnection:
            conn: PgConnection = await asyncpg.connect(**pg_kwargs)
            return conn

        return PgEndpoint(connect_pg)
    if engine_family is Family.MYSQL:
        mysql_kwargs = pymysql_connect_kwargs(spec, credentials)
        stream_kwargs = asyncmy_connect_kwargs(spec, credentials)
        if read_only:
            mysql_kwargs["init_command"] = stream_kwargs["init_command"] = MYSQL_READ_ONLY

        async def connect_stream() -> MySQLStreamConnection:
            return await asyncmy.connect(**stream_kwargs, autocommit=True)

        return MySQLEndpoint(lambda: pymysql.connect(**mysql_kwargs, autocommit=False), connect_stream)
    path = spec.database
    if read_only:
        uri = f"file:{urllib.parse.quote(path)}?mode=ro"
        return SQLiteEndpoint(lambda: sqlite3.connect(uri, uri=True, check_same_thread=False))
    return SQLiteEndpoint(lambda: sqlite3.connect(path, check_same_thread=False))
