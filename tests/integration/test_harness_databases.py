"""The database harness gives each test a real, isolated, password-protected database."""

from __future__ import annotations

import psycopg
import pymysql
import pytest

from harness.databases import Database


def test_postgres_database_is_isolated_and_password_protected(pg_db: Database, pg_db2: Database) -> None:
    with psycopg.connect(pg_db.libpq_dsn()) as conn:
        conn.execute("CREATE TABLE t (id int primary key)")
        assert conn.execute("SELECT current_database()").fetchone() == (pg_db.name,)
    with psycopg.connect(pg_db2.libpq_dsn()) as conn:
        assert conn.execute("SELECT count(*) FROM pg_tables WHERE tablename = 't'").fetchone() == (0,)
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(pg_db.libpq_dsn().replace(pg_db.password, "wrong"))


def test_mariadb_database_is_real_mariadb(mariadb_db: Database) -> None:
    conn = pymysql.connect(
        host=mariadb_db.host, port=mariadb_db.port, user=mariadb_db.user,
        password=mariadb_db.password, database=mariadb_db.name,
    )  # fmt: skip
    with conn, conn.cursor() as cur:
        cur.execute("SELECT VERSION()")
        row = cur.fetchone()
        assert row is not None and "MariaDB" in row[0]
    with pytest.raises(pymysql.err.OperationalError):
        pymysql.connect(host=mariadb_db.host, port=mariadb_db.port, user=mariadb_db.user, password="wrong")
