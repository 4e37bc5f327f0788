"""The schema fingerprint that decides whether a pending plan is computed again, against real
servers: unchanged by rows, statistics and vacuum; changed by every kind of DDL a plan reads."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import psycopg
import pymysql
import sqlalchemy

from ferry.schema.fingerprint import schema_fingerprint
from harness.databases import Database


def _engine(db: Database) -> sqlalchemy.Engine:
    return sqlalchemy.create_engine(db.sqlalchemy_url(), poolclass=sqlalchemy.NullPool)


def _pg(db: Database) -> Callable[[str], None]:
    def run(sql: str) -> None:
        with psycopg.connect(db.libpq_dsn(), autocommit=True) as conn:
            conn.execute(sql)

    return run


def _maria(db: Database) -> Callable[[str], None]:
    def run(sql: str) -> None:
        conn = pymysql.connect(
            host=db.host, port=db.port, user=db.user, password=db.password, database=db.name, autocommit=True
        )
        try:
            with conn.cursor() as cursor:
                cursor.execute(sql)
        finally:
            conn.close()

    return run


PG_DDL = [
    "ALTER TABLE orders ADD COLUMN note text",
    "ALTER TABLE orders ALTER COLUMN qty TYPE bigint",
    "ALTER TABLE orders ALTER COLUMN qty SET DEFAULT 1",
    "CREATE INDEX orders_qty ON orders (qty)",
    "ALTER TABLE orders ADD CONSTRAINT qty_positive CHECK (qty > 0)",
    "CREATE TYPE mood AS ENUM ('ok')",
    "CREATE VIEW big_orders AS SELECT * FROM orders WHERE qty > 10",
    "CREATE SEQUENCE order_numbers",
    "ALTER TABLE orders RENAME TO purchases",
]

MARIA_DDL = [
    "ALTER TABLE orders ADD COLUMN note text",
    "ALTER TABLE orders MODIFY qty bigint",
    "ALTER TABLE orders ALTER qty SET DEFAULT 1",
    "CREATE INDEX orders_qty ON orders (qty)",
    "ALTER TABLE orders ADD CONSTRAINT qty_positive CHECK (qty > 0)",
    "CREATE VIEW big_orders AS SELECT * FROM orders WHERE qty > 10",
    "ALTER TABLE orders RENAME TO purchases",
]


def _rows_do_not_count_ddl_does(
    db: Database, run: Callable[[str], None], ddl: list[str], analyze: str
) -> None:
    run("CREATE TABLE orders (id int PRIMARY KEY, qty int)")
    engine = _engine(db)
    first = schema_fingerprint(engine)
    assert schema_fingerprint(engine) == first
    run("INSERT INTO orders VALUES (1, 5), (2, 7)")
    run("UPDATE orders SET qty = 6 WHERE id = 1")
    run(analyze)
    assert schema_fingerprint(engine) == first, "rows and statistics are not a schema change"
    seen = {first}
    for statement in ddl:
        run(statement)
        now = schema_fingerprint(engine)
        assert now not in seen, f"no change seen after: {statement}"
        seen.add(now)


def test_postgresql(pg_db: Database) -> None:
    _rows_do_not_count_ddl_does(pg_db, _pg(pg_db), PG_DDL, "VACUUM ANALYZE orders")


def test_postgresql_counts_only_the_migrations_schema(pg_db: Database) -> None:
    """Many Migrations into one database, each in a schema of its own, do not re-plan each other;
    a schema that does not exist yet digests as empty, and its creation counts."""
    run, engine = _pg(pg_db), _engine(pg_db)
    mine, theirs = schema_fingerprint(engine, "mine"), schema_fingerprint(engine)
    run("CREATE SCHEMA other")
    run("CREATE TABLE other.t (id int PRIMARY KEY)")
    assert schema_fingerprint(engine, "mine") == mine
    assert schema_fingerprint(engine) == theirs
    run("CREATE SCHEMA mine")
    assert schema_fingerprint(engine, "mine") != mine


def test_mariadb(mariadb_db: Database) -> None:
    _rows_do_not_count_ddl_does(mariadb_db, _maria(mariadb_db), MARIA_DDL, "ANALYZE TABLE orders")


def test_sqlite(tmp_path: Path) -> None:
    engine = sqlalchemy.create_engine(f"sqlite:///{tmp_path}/app.db", poolclass=sqlalchemy.NullPool)
    with engine.begin() as conn:
        conn.execute(sqlalchemy.text("CREATE TABLE orders (id integer PRIMARY KEY, qty int)"))
    first = schema_fingerprint(engine)
    with engine.begin() as conn:
        conn.execute(sqlalchemy.text("INSERT INTO orders VALUES (1, 5)"))
    assert schema_fingerprint(engine) == first
    with engine.begin() as conn:
        conn.execute(sqlalchemy.text("ALTER TABLE orders ADD COLUMN note text"))
    assert schema_fingerprint(engine) != first
