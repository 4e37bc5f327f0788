"""The raw-driver paths of the copy engine reach the same servers with the same TLS rules."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import asyncmy
import asyncpg
import psycopg
import pymysql
import pytest
from sqlalchemy import text

from ferry.api.connection import DatabaseConnectionSpec
from ferry.db.credentials import Credentials
from ferry.db.engines import (
    asyncmy_connect_kwargs,
    asyncpg_connect_kwargs,
    create_engine,
    dispose_engine,
    engine_tls_files,
    psycopg_connect_params,
    pymysql_connect_kwargs,
)
from harness.databases import Database
from integration.connection.conftest import connection_spec
from integration.connection.tls_servers import Pki


def _spec(db: Database, **extra: Any) -> DatabaseConnectionSpec:
    return DatabaseConnectionSpec.model_validate(connection_spec(db, **extra))


def _verify_full(db: Database) -> DatabaseConnectionSpec:
    return _spec(db, tls={"mode": "verify-full", "caSecretRef": {"name": "ca"}})


async def test_asyncpg_verify_full(pg_tls_db: Database, pki: Pki, other_pki: Pki) -> None:
    kwargs = asyncpg_connect_kwargs(
        _verify_full(pg_tls_db), Credentials(pg_tls_db.user, pg_tls_db.password, ca_pem=pki.ca_pem)
    )
    conn = await asyncpg.connect(**kwargs)
    try:
        assert await conn.fetchval("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()") is True
        assert await conn.fetchval("SHOW application_name") == "ferry"
    finally:
        await conn.close()
    wrong = asyncpg_connect_kwargs(
        _verify_full(pg_tls_db), Credentials(pg_tls_db.user, pg_tls_db.password, ca_pem=other_pki.ca_pem)
    )
    with pytest.raises(Exception, match=r"(?i)certificate"):
        await asyncpg.connect(**wrong)


def test_psycopg_params_files_live_only_inside_the_block(pg_tls_db: Database, pki: Pki) -> None:
    creds = Credentials(pg_tls_db.user, pg_tls_db.password, ca_pem=pki.ca_pem)
    with psycopg_connect_params(_verify_full(pg_tls_db), creds) as params:
        root = Path(params["sslrootcert"])
        assert stat.S_IMODE(root.stat().st_mode) == 0o600
        with psycopg.connect(**params) as conn:
            row = conn.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone()
            assert row == (True,)
    assert not root.exists()


def test_pooled_engine_keeps_tls_files_until_disposed(pg_tls_db: Database, pki: Pki) -> None:
    engine = create_engine(
        _verify_full(pg_tls_db), Credentials(pg_tls_db.user, pg_tls_db.password, ca_pem=pki.ca_pem)
    )
    files = engine_tls_files(engine)
    assert files is not None
    directory = files.directory
    for _ in range(2):  # a second checkout after the first connection closed still finds the CA
        with engine.connect() as conn:
            assert conn.execute(text("SELECT 1")).scalar_one() == 1
        engine.dispose()
    assert directory.exists()
    dispose_engine(engine)
    assert not directory.exists()


def test_pymysql_kwargs_connect_and_disable_tls(mariadb_db: Database) -> None:
    kwargs = pymysql_connect_kwargs(_spec(mariadb_db), Credentials(mariadb_db.user, mariadb_db.password))
    assert kwargs["ssl_disabled"] is True
    with pymysql.connect(**kwargs) as conn, conn.cursor() as cur:
        cur.execute("SELECT DATABASE()")
        assert cur.fetchone() == (mariadb_db.name,)


async def test_asyncmy_kwargs_connect_without_tls_as_the_bulk_reader(mariadb_db: Database) -> None:
    spec = _spec(mariadb_db)
    kwargs = asyncmy_connect_kwargs(spec, Credentials(mariadb_db.user, mariadb_db.password))
    assert "ssl" not in kwargs and "ssl_disabled" not in kwargs
    conn = await asyncmy.connect(**kwargs)
    try:
        async with conn.cursor() as cur:
            await cur.execute("SELECT DATABASE(), @@character_set_client")
            assert await cur.fetchone() == (mariadb_db.name, "utf8mb4")
    finally:
        conn.close()


def _mariadb_cipher(cur: Any) -> str:
    cur.execute("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
    row = cur.fetchone()
    return str(row[1]) if row else ""


def test_pymysql_verify_full_uses_tls_and_refuses_another_ca(
    mariadb_tls_db: Database, pki: Pki, other_pki: Pki
) -> None:
    db = mariadb_tls_db
    kwargs = pymysql_connect_kwargs(_verify_full(db), Credentials(db.user, db.password, ca_pem=pki.ca_pem))
    with pymysql.connect(**kwargs) as conn, conn.cursor() as cur:
        assert _mariadb_cipher(cur)  # empty when the session is not encrypted
    wrong = pymysql_connect_kwargs(
        _verify_full(db), Credentials(db.user, db.password, ca_pem=other_pki.ca_pem)
    )
    with pytest.raises(pymysql.err.OperationalError, match=r"(?i)certificate"):
        pymysql.connect(**wrong)


async def test_asyncmy_verify_full_uses_tls_and_refuses_another_ca(
    mariadb_tls_db: Database, pki: Pki, other_pki: Pki
) -> None:
    db = mariadb_tls_db
    kwargs = asyncmy_connect_kwargs(_verify_full(db), Credentials(db.user, db.password, ca_pem=pki.ca_pem))
    conn = await asyncmy.connect(**kwargs)
    try:
        async with conn.cursor() as cur:
            await cur.execute("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
            (_, cipher) = await cur.fetchone()
            assert cipher
    finally:
        conn.close()
    wrong = asyncmy_connect_kwargs(
        _verify_full(db), Credentials(db.user, db.password, ca_pem=other_pki.ca_pem)
    )
    with pytest.raises(Exception, match=r"(?i)certificate"):
        await asyncmy.connect(**wrong)


def test_pooled_mariadb_engine(mariadb_db: Database) -> None:
    engine = create_engine(_spec(mariadb_db), Credentials(mariadb_db.user, mariadb_db.password))
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT @@character_set_client")).scalar_one() == "utf8mb4"
        assert engine.pool.size() == 5  # type: ignore[attr-defined]
    finally:
        dispose_engine(engine)
