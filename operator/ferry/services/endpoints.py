"""Connection factories for the copy engine, from a connection spec and its credentials."""

from __future__ import annotations

import sqlite3
from typing import Any

import asyncpg
import pymysql

from ferry.api.connection import Engine
from ferry.copy import Endpoints, MySQLEndpoint, PgEndpoint, SQLiteEndpoint
from ferry.copy.endpoints import Endpoint
from ferry.db.engines import asyncpg_connect_kwargs, pymysql_connect_kwargs
from ferry.services.planning import Side


def endpoint_for(side: Side) -> Endpoint:
    spec, credentials = side.spec, side.credentials
    if spec.engine == Engine.POSTGRESQL:
        kwargs = asyncpg_connect_kwargs(spec, credentials)

        async def connect_pg() -> asyncpg.Connection[Any]:
            conn: asyncpg.Connection[Any] = await asyncpg.connect(**kwargs)
            return conn

        return PgEndpoint(connect_pg)
    if spec.engine in (Engine.MYSQL, Engine.MARIADB):
        mysql_kwargs = pymysql_connect_kwargs(spec, credentials)

        def connect_mysql() -> Any:
            return pymysql.connect(**mysql_kwargs, autocommit=False)

        return MySQLEndpoint(connect_mysql)
    path = spec.database

    def connect_sqlite() -> sqlite3.Connection:
        return sqlite3.connect(path, check_same_thread=False)

    return SQLiteEndpoint(connect_sqlite)


def endpoints_for(source: Side, target: Side) -> Endpoints:
    return Endpoints(endpoint_for(source), endpoint_for(target))
