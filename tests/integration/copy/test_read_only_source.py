"""The source is only read: a `where` filter that calls a writing function fails, and writes nothing.

Every source session of the copy and its validation is read-only from its first statement
(ferry.copy.endpoints), on PostgreSQL and on MariaDB.
"""

from __future__ import annotations

import asyncio

import psycopg
import pymysql
import pytest

from ferry.api.migration import MigrationSpec
from ferry.db.credentials import EnvSecretSource
from ferry.services.copy_driver import copy_share
from ferry.services.planning import plan_migration
from ferry.services.target_load import prepare_target
from harness.databases import Database
from integration.copy.helpers import side

pytestmark = pytest.mark.integration


def _maria(db: Database, autocommit: bool = False) -> pymysql.connections.Connection:  # type: ignore[type-arg]
    return pymysql.connect(host=db.host, port=db.port, user=db.user, password=db.password, database=db.name,
                           autocommit=autocommit)  # fmt: skip


def _copy(source: Database, target: Database, where: str) -> str | None:
    spec = MigrationSpec.model_validate(
        {
            "source": {"connectionRef": {"name": "src"}},
            "target": {"connectionRef": {"name": "dst"}, "schema": "public"},
            "schema": {"mode": "create"},
            "tables": {"include": ["items"], "overrides": [{"name": "items", "where": where}]},
        }
    )
    src, dst = side(source), side(target)
    planned = plan_migration(spec, src, dst)
    prepare_target(dst, "ro", planned, truncate=False)

    async def run() -> str | None:
        share = await copy_share(spec, src, dst, migration_uid="ro", secrets=EnvSecretSource(),
                                 mappings=planned.mappings)  # fmt: skip
        results = await share.run()
        return None if results.ok else results.failed[0].error

    return asyncio.run(run())


def test_a_postgresql_filter_that_writes_fails_and_writes_nothing(pg_db: Database, pg_db2: Database) -> None:
    with psycopg.connect(pg_db.libpq_dsn(), autocommit=True) as conn:
        conn.execute("CREATE TABLE items (id int PRIMARY KEY, name text)")
        conn.execute("CREATE TABLE audit (n int)")
        conn.execute("INSERT INTO items SELECT g, 'n' || g FROM generate_series(1, 50) g")
        conn.execute(
            "CREATE FUNCTION sneaky(i int) RETURNS boolean LANGUAGE plpgsql AS "
            "$$ BEGIN INSERT INTO audit VALUES (i); RETURN true; END $$"
        )
    error = _copy(pg_db, pg_db2, "sneaky(id)")
    assert error is not None and "read-only transaction" in error
    with psycopg.connect(pg_db.libpq_dsn()) as conn:
        assert conn.execute("SELECT count(*) FROM audit").fetchone() == (0,)


def test_a_mariadb_filter_that_writes_fails_and_writes_nothing(mariadb_db: Database, pg_db: Database) -> None:
    conn = _maria(mariadb_db, autocommit=True)
    with conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE items (id int PRIMARY KEY, name varchar(20))")
        cur.execute("CREATE TABLE audit (n int)")
        cur.execute("INSERT INTO items VALUES (1, 'a'), (2, 'b'), (3, 'c')")
        cur.execute(
            "CREATE FUNCTION sneaky(i int) RETURNS int MODIFIES SQL DATA "
            "BEGIN INSERT INTO audit VALUES (i); RETURN 1; END"
        )
    error = _copy(mariadb_db, pg_db, "sneaky(id) = 1")
    assert error is not None and "READ ONLY" in error.upper()
    conn = _maria(mariadb_db)
    with conn, conn.cursor() as cur:
        cur.execute("SELECT count(*) FROM audit")
        assert cur.fetchone() == (0,)
