"""Rollback SQL against a real PostgreSQL: truncate what the migration wrote, drop what it created."""

from __future__ import annotations

import psycopg
import sqlalchemy

from ferry.services.rollback_sql import drop_tables, truncate_tables
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
