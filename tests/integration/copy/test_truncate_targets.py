"""copy.truncateTarget empties the selected tables once per migration, foreign keys included."""

from __future__ import annotations

import asyncio

import psycopg

from ferry.copy.truncate import truncate_targets
from harness.databases import Database
from integration.copy.helpers import id_table, pg_endpoint


def test_referenced_tables_are_emptied_together_and_only_once(pg_db: Database) -> None:
    with psycopg.connect(pg_db.libpq_dsn(), autocommit=True) as conn:
        conn.execute("CREATE TABLE parent (id int PRIMARY KEY)")
        conn.execute("CREATE TABLE child (id int PRIMARY KEY, parent_id int REFERENCES parent)")
        conn.execute("INSERT INTO parent VALUES (1), (2); INSERT INTO child VALUES (1, 1)")

    endpoint = pg_endpoint(pg_db)
    mappings = [id_table("parent"), id_table("child")]
    assert asyncio.run(truncate_targets(endpoint, "uid-1", mappings)) == ["public.parent", "public.child"]
    with psycopg.connect(pg_db.libpq_dsn(), autocommit=True) as conn:
        assert conn.execute(
            "SELECT (SELECT count(*) FROM parent), (SELECT count(*) FROM child)"
        ).fetchone() == (0, 0)
        conn.execute("INSERT INTO parent VALUES (3)")  # copied after the truncation
    assert asyncio.run(truncate_targets(endpoint, "uid-1", mappings)) == []  # a restart keeps copied rows
    with psycopg.connect(pg_db.libpq_dsn()) as conn:
        assert conn.execute("SELECT count(*) FROM parent").fetchone() == (1,)
