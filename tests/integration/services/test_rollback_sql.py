"""Rollback SQL against a real PostgreSQL: truncate what the migration wrote, drop what it created."""

from __future__ import annotations

import psycopg
import sqlalchemy

from ferry.copy import validation_store
from ferry.copy.checkpoint_sql import checkpoint_sql
from ferry.services.rollback_sql import clear_checkpoints, drop_tables, truncate_tables
from harness.databases import Database
from integration.copy.helpers import id_table


def test_truncate_empties_referenced_tables_and_drop_touches_only_the_named(pg_db: Database) -> None:
    with psycopg.connect(pg_db.libpq_dsn(), autocommit=True) as conn:
        conn.execute("CREATE TABLE parent (id int PRIMARY KEY); CREATE TABLE keep_me (id int PRIMARY KEY)")
        conn.execute("CREATE TABLE child (id int PRIMARY KEY, parent_id int REFERENCES parent)")
        conn.execute(
            "INSERT INTO parent VALUES (1); INSERT INTO child VALUES (1, 1); INSERT INTO keep_me VALUES (1)"
        )
    engine = sqlalchemy.create_engine(pg_db.sqlalchemy_url(), poolclass=sqlalchemy.NullPool)
    assert truncate_tables(engine, [id_table("parent"), id_table("child")]) == [
        "public.parent",
        "public.child",
    ]
    with psycopg.connect(pg_db.libpq_dsn()) as conn:
        counts = conn.execute("SELECT (SELECT count(*) FROM parent), (SELECT count(*) FROM child)").fetchone()
        assert counts == (0, 0)
    assert drop_tables(engine, ["public.parent", "public.child"]) == ["public.child", "public.parent"]
    assert set(sqlalchemy.inspect(engine).get_table_names()) == {"keep_me"}


def test_clear_checkpoints_forgets_one_migration_and_keeps_the_others(pg_db: Database) -> None:
    engine = sqlalchemy.create_engine(pg_db.sqlalchemy_url(), poolclass=sqlalchemy.NullPool)
    assert clear_checkpoints(engine, "uid-a") == 0  # no checkpoint table yet: nothing to do
    with psycopg.connect(pg_db.libpq_dsn(), autocommit=True) as conn:
        for statement in checkpoint_sql("postgresql").create:
            conn.execute(statement)
        conn.execute(
            "INSERT INTO ferry._ferry_checkpoints (migration_uid, unit_id, bounds, rows_copied, done) "
            "VALUES ('uid-a', 'u1', '{}', 10, true), ('uid-a', 'u2', '{}', 5, false), "
            "('uid-b', 'u1', '{}', 7, false)"
        )
    assert clear_checkpoints(engine, "uid-a") == 2
    with psycopg.connect(pg_db.libpq_dsn()) as conn:
        left = conn.execute("SELECT migration_uid, unit_id FROM ferry._ferry_checkpoints").fetchall()
    assert left == [("uid-b", "u1")]


def test_clear_checkpoints_forgets_one_migrations_validation_results_too(pg_db: Database) -> None:
    engine = sqlalchemy.create_engine(pg_db.sqlalchemy_url(), poolclass=sqlalchemy.NullPool)
    with psycopg.connect(pg_db.libpq_dsn(), autocommit=True) as conn:
        for statement in validation_store.create_sql("postgresql"):
            conn.execute(statement)
        for uid in ("uid-a", "uid-b"):
            conn.execute(
                f"INSERT INTO ferry._ferry_validation ({validation_store.COLUMNS}) "
                "VALUES (%s, 1, 'r1', 'public.t', 0, '[]', 3, 3, 1, NULL, 0, NULL)",
                (uid,),
            )
    assert clear_checkpoints(engine, "uid-a") == 1  # no checkpoint table: only the results
    with psycopg.connect(pg_db.libpq_dsn()) as conn:
        left = conn.execute("SELECT migration_uid FROM ferry._ferry_validation").fetchall()
    assert left == [("uid-b",)]


def test_a_succeeded_migration_keeps_its_validation_results(pg_db: Database) -> None:
    engine = sqlalchemy.create_engine(pg_db.sqlalchemy_url(), poolclass=sqlalchemy.NullPool)
    with psycopg.connect(pg_db.libpq_dsn(), autocommit=True) as conn:
        for statement in validation_store.create_sql("postgresql"):
            conn.execute(statement)
        conn.execute(
            f"INSERT INTO ferry._ferry_validation ({validation_store.COLUMNS}) "
            "VALUES ('uid-a', 1, 'r1', 'public.t', 0, '[]', 3, 3, 1, NULL, 0, NULL)"
        )
    assert clear_checkpoints(engine, "uid-a", validation_results=False) == 0
    assert clear_checkpoints(engine, "uid-a") == 1


def test_rollback_of_tables_named_with_a_percent_sign(pg_db: Database) -> None:
    # psycopg's dialect doubles `%` in names for the driver's formatting, and `text()` doubles it
    # again: a name quoted by that dialect and then run through text() missed its table.
    with psycopg.connect(pg_db.libpq_dsn(), autocommit=True) as conn:
        conn.execute('CREATE TABLE "50%s off" (id int PRIMARY KEY); INSERT INTO "50%s off" VALUES (1)')
    engine = sqlalchemy.create_engine(pg_db.sqlalchemy_url(), poolclass=sqlalchemy.NullPool)
    assert truncate_tables(engine, [id_table("50%s off")]) == ["public.50%s off"]
    with psycopg.connect(pg_db.libpq_dsn()) as conn:
        assert conn.execute('SELECT count(*) FROM "50%s off"').fetchone() == (0,)
    assert drop_tables(engine, ["public.50%s off"]) == ["public.50%s off"]
    assert sqlalchemy.inspect(engine).get_table_names() == []
