"""Connections from a DatabaseConnection spec and its credentials, for every driver Ferry uses.

- `create_engine`: a SQLAlchemy engine (psycopg for PostgreSQL, PyMySQL for MySQL/MariaDB,
  the stdlib driver for SQLite) for schema work, probes and the worker;
- `psycopg_connect_params`, `asyncpg_connect_kwargs`, `pymysql_connect_kwargs`,
  `asyncmy_connect_kwargs`: keyword arguments for the raw drivers of the copy.

Every path applies the same TLS mode, connect timeout, application name and refusal of
clear-text passwords (ferry.db.cleartext; asyncpg has no way to refuse, see there). The libpq
paths need the TLS material as files: they live in a private temp directory as long as the
engine (or the `with` block) that uses them.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy
from sqlalchemy.engine import URL
from sqlalchemy.pool import NullPool

from ferry.api.connection import DatabaseConnectionSpec, Engine, TLSMode
from ferry.db.cleartext import LIBPQ_REQUIRE_AUTH, asyncmy_auth_plugin_map, pymysql_auth_plugin_map
from ferry.db.credentials import Credentials
from ferry.db.dialects import Family, family
from ferry.db.target import ConnectionTarget, resolve_target
from ferry.db.tls import TLSFiles, remove_tls_files, ssl_context, tls_files, write_tls_files

# Worker pool: a few connections per process (one per copy thread plus schema work), checked
# before use because copies run for hours and idle connections get cut by proxies, and
# recycled before MySQL's default wait_timeout (8 h) or a cloud proxy's idle limit.
POOL_SIZE = 5
MAX_OVERFLOW = 5
POOL_RECYCLE_SECONDS = 1800

_DRIVERS = {
    Engine.POSTGRESQL: "postgresql+psycopg",
    Engine.MYSQL: "mysql+pymysql",
    Engine.MARIADB: "mariadb+pymysql",
    Engine.SQLITE: "sqlite",
}


def sqlalchemy_url(target: ConnectionTarget) -> URL:
    """The URL without TLS and timeouts (those go in connect_args). Render it only hidden."""
    if target.engine == Engine.SQLITE:
        return URL.create("sqlite", database=target.database, query=target.params)
    query = dict(target.params) if target.engine != Engine.POSTGRESQL else {}
    if family(target.engine) is Family.MYSQL:
        query.setdefault("charset", "utf8mb4")
    return URL.create(
        _DRIVERS[target.engine],
        username=target.username,
        password=target.password,
        host=target.host,
        port=target.port,
        database=target.database,
        query=query,
    )


def libpq_params(
    target: ConnectionTarget, files: TLSFiles | None, connect_timeout: float | None = None
) -> dict[str, Any]:
    """libpq connection parameters besides host/user/password/dbname."""
    params: dict[str, Any] = dict(target.params)
    # libpq counts whole seconds and treats values below 2 as 2.
    params["connect_timeout"] = str(max(2, int(connect_timeout or target.connect_timeout)))
    params["application_name"] = target.application_name
    if target.tls_mode != TLSMode.DISABLE or "sslmode" not in params:
        params["sslmode"] = target.tls_mode.value
    if files is not None:
        if files.ca is not None and target.tls_mode in (TLSMode.VERIFY_CA, TLSMode.VERIFY_FULL):
            params["sslrootcert"] = str(files.ca)
        if files.cert is not None and files.key is not None:
            params["sslcert"], params["sslkey"] = str(files.cert), str(files.key)
    if not target.allow_cleartext_password:
        params["require_auth"] = LIBPQ_REQUIRE_AUTH  # over any require_auth in options.params
    return params


def _needs_files(target: ConnectionTarget) -> bool:
    return target.tls_mode != TLSMode.DISABLE and bool(
        target.ca_pem or target.client_cert_pem or target.client_key_pem
    )


def _pymysql_tls_args(target: ConnectionTarget) -> dict[str, Any]:
    context = ssl_context(target.tls_mode, target.ca_pem, target.client_cert_pem, target.client_key_pem)
    # PyMySQL would otherwise try TLS opportunistically; `disable` means no TLS at all. With a
    # context, PyMySQL and asyncmy require TLS (no fallback to plain text).
    return {"ssl": context} if context is not None else {"ssl_disabled": True}


def _refuses_cleartext_plugins(target: ConnectionTarget) -> bool:
    """MySQL/MariaDB: the clear-text plugins are refused on connections without TLS."""
    return target.tls_mode == TLSMode.DISABLE and not target.allow_cleartext_password


def create_engine(
    spec: DatabaseConnectionSpec,
    credentials: Credentials,
    *,
    pool: bool = True,
    connect_timeout: float | None = None,
    io_timeout: float | None = None,
) -> sqlalchemy.Engine:
    """An engine for the connection. `pool=False` opens a fresh connection per checkout (probes).

    `connect_timeout` overrides `spec.options.connectTimeoutSeconds`; `io_timeout` bounds each
    read and write on MySQL/MariaDB sockets (probes only: a copy's queries may run for long).

    TLS files, when libpq needs them, are removed when the engine is garbage-collected or
    the process exits; call `dispose_engine` to remove them at once.
    """
    target = resolve_target(spec, credentials)
    url = sqlalchemy_url(target)
    kwargs: dict[str, Any] = {"poolclass": NullPool} if not pool else {}
    if pool and target.engine != Engine.SQLITE:
        kwargs.update(
            pool_size=POOL_SIZE,
            max_overflow=MAX_OVERFLOW,
            pool_pre_ping=True,
            pool_recycle=POOL_RECYCLE_SECONDS,
        )
    timeout = connect_timeout or target.connect_timeout
    files: TLSFiles | None = None
    if target.engine == Engine.POSTGRESQL:
        files = (
            write_tls_files(target.ca_pem, target.client_cert_pem, target.client_key_pem)
            if _needs_files(target)
            else None
        )
        connect_args: dict[str, Any] = libpq_params(target, files, timeout)
    elif family(target.engine) is Family.MYSQL:
        connect_args = {"connect_timeout": max(1, int(timeout)), "program_name": target.application_name}
        if io_timeout:
            connect_args.update(read_timeout=max(1, int(io_timeout)), write_timeout=max(1, int(io_timeout)))
        connect_args.update(_pymysql_tls_args(target))
        if _refuses_cleartext_plugins(target):
            connect_args["auth_plugin_map"] = pymysql_auth_plugin_map()
    else:
        connect_args = {"timeout": float(timeout)}
    try:
        engine = sqlalchemy.create_engine(url, connect_args=connect_args, **kwargs)
    except BaseException:
        if files is not None:
            remove_tls_files(files)
        raise
    if files is not None:
        _tls_files_of[engine] = weakref.finalize(engine, remove_tls_files, files)
    return engine


_tls_files_of: weakref.WeakKeyDictionary[sqlalchemy.Engine, weakref.finalize[Any, Any]] = (
    weakref.WeakKeyDictionary()
)


def engine_tls_files(engine: sqlalchemy.Engine) -> TLSFiles | None:
    """The TLS files an engine's connections read (None when it needs none or was disposed)."""
    finalizer = _tls_files_of.get(engine)
    found = finalizer.peek() if finalizer is not None else None
    files: TLSFiles | None = found[2][0] if found is not None else None
    return files


def dispose_engine(engine: sqlalchemy.Engine) -> None:
    """Close the engine's connections and remove its TLS files now."""
    engine.dispose()
    finalizer = _tls_files_of.pop(engine, None)
    if finalizer is not None:
        finalizer()


@contextmanager
def open_engine(
    spec: DatabaseConnectionSpec,
    credentials: Credentials,
    *,
    pool: bool = True,
    connect_timeout: float | None = None,
    io_timeout: float | None = None,
) -> Iterator[sqlalchemy.Engine]:
    """`create_engine` whose connections and TLS files are gone after the `with` block."""
    engine = create_engine(
        spec, credentials, pool=pool, connect_timeout=connect_timeout, io_timeout=io_timeout
    )
    try:
        yield engine
    finally:
        dispose_engine(engine)


@contextmanager
def psycopg_connect_params(
    spec: DatabaseConnectionSpec, credentials: Credentials
) -> Iterator[dict[str, Any]]:
    """Keyword arguments for `psycopg.connect(**params)`; TLS files exist inside the block."""
    target = _require(spec, credentials, Engine.POSTGRESQL)
    base = {"host": target.host, "port": target.port, "dbname": target.database, "user": target.username,
            "password": target.password}  # fmt: skip
    if not _needs_files(target):
        yield {**base, **libpq_params(target, None)}
        return
    with tls_files(target.ca_pem, target.client_cert_pem, target.client_key_pem) as files:
        yield {**base, **libpq_params(target, files)}


def asyncpg_connect_kwargs(spec: DatabaseConnectionSpec, credentials: Credentials) -> dict[str, Any]:
    """Keyword arguments for `asyncpg.connect(**kwargs)`; the TLS material is held in memory.

    Extra `options.params` are libpq parameters and do not apply to asyncpg. asyncpg cannot
    refuse a clear-text password request (ferry.db.cleartext says what stands in for it).
    """
    target = _require(spec, credentials, Engine.POSTGRESQL)
    context = ssl_context(target.tls_mode, target.ca_pem, target.client_cert_pem, target.client_key_pem)
    return {
        "host": target.host,
        "port": target.port,
        "user": target.username,
        "password": target.password,
        "database": target.database,
        "timeout": float(target.connect_timeout),
        "ssl": context if context is not None else False,
        "server_settings": {"application_name": target.application_name},
    }


def pymysql_connect_kwargs(spec: DatabaseConnectionSpec, credentials: Credentials) -> dict[str, Any]:
    """Keyword arguments for `pymysql.connect(**kwargs)`; the TLS material is held in memory."""
    target = resolve_target(spec, credentials)
    if family(target.engine) is not Family.MYSQL:
        raise ValueError(
            f"pymysql_connect_kwargs needs a mysql or mariadb connection, not {target.engine.value}"
        )
    kwargs: dict[str, Any] = {
        "host": target.host,
        "port": target.port,
        "user": target.username,
        "password": target.password or "",
        "database": target.database,
        "charset": "utf8mb4",
        "connect_timeout": target.connect_timeout,
        "program_name": target.application_name,
    }
    kwargs.update(_pymysql_tls_args(target))
    if _refuses_cleartext_plugins(target):
        kwargs["auth_plugin_map"] = pymysql_auth_plugin_map()
    return kwargs


def asyncmy_connect_kwargs(spec: DatabaseConnectionSpec, credentials: Credentials) -> dict[str, Any]:
    """Keyword arguments for `asyncmy.connect(**kwargs)` (the copy's bulk reads): PyMySQL's, with
    the same TLS context; asyncmy has no `ssl_disabled` and uses no TLS unless given a context."""
    kwargs = pymysql_connect_kwargs(spec, credentials)
    kwargs.pop("ssl_disabled", None)
    if "auth_plugin_map" in kwargs:
        kwargs["auth_plugin_map"] = asyncmy_auth_plugin_map()
    return kwargs


def _require(spec: DatabaseConnectionSpec, credentials: Credentials, engine: Engine) -> ConnectionTarget:
    target = resolve_target(spec, credentials)
    if target.engine != engine:
        raise ValueError(f"this driver needs a {engine.value} connection, not {target.engine.value}")
    return target
