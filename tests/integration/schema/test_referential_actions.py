"""Referential actions as the source declares them: RESTRICT is not NO ACTION on PostgreSQL."""

from __future__ import annotations

from ferry.schema import discover
from harness.databases import Database
from integration.schema.loading import engine_for, run_sql


def _actions(db: Database, schema: str | None) -> tuple[str | None, str | None]:
    engine = engine_for(db)
    try:
        (fk,) = discover(engine, schema).tables["child"].foreign_keys
    finally:
        engine.dispose()
    return fk.on_delete, fk.on_update


def test_postgresql_keeps_restrict(pg_db: Database) -> None:
    run_sql(
        pg_db,
        "CREATE TABLE parent (id int PRIMARY KEY);\n"
        "CREATE TABLE child (id int PRIMARY KEY, "
        "parent_id int REFERENCES parent ON DELETE RESTRICT ON UPDATE CASCADE);",
    )
    assert _actions(pg_db, "public") == ("RESTRICT", "CASCADE")


def test_mysql_restrict_is_its_default(mariadb_db: Database) -> None:
    run_sql(
        mariadb_db,
        "CREATE TABLE parent (id int PRIMARY KEY);\n"
        "CREATE TABLE child (id int PRIMARY KEY, parent_id int, "
        "FOREIGN KEY (parent_id) REFERENCES parent (id) ON DELETE RESTRICT);",
    )
    assert _actions(mariadb_db, None) == (None, None)
