"""Schema snapshots and drift on real PostgreSQL and MariaDB: the plan keeps both sides' schemas,
and a later change on either is named (the column, the table), not just "the hash differs"."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from ferry.schema import discover
from ferry.schema.snapshots import compare, snapshots
from harness.databases import Database


def _execute(db: Database, *statements: str) -> None:
    engine = sa.create_engine(db.sqlalchemy_url())
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(sa.text(statement))
    engine.dispose()


def _read(db: Database) -> object:
    engine = sa.create_engine(db.sqlalchemy_url())
    try:
        return discover(engine, "public" if db.engine == "postgresql" else None)
    finally:
        engine.dispose()


@pytest.mark.parametrize("engine_name", ["postgresql", "mariadb"])
def test_a_change_after_the_snapshot_is_named(engine_name: str, request: pytest.FixtureRequest) -> None:
    db: Database = request.getfixturevalue("pg_db" if engine_name == "postgresql" else "mariadb_db")
    _execute(db, "CREATE TABLE customer (id integer PRIMARY KEY, email varchar(80), note text)",
             "CREATE TABLE item (id integer PRIMARY KEY)")  # fmt: skip
    before = _read(db)
    kept = snapshots([(before, before)])  # type: ignore[list-item]
    assert kept["source"][0]["hash"] == before.hash()  # type: ignore[attr-defined]
    assert compare(kept["source"], [_read(db)])[0]["differences"] == []  # type: ignore[list-item]

    _execute(db, "ALTER TABLE customer ADD COLUMN phone varchar(20)", "DROP TABLE item",
             "ALTER TABLE customer DROP COLUMN note")  # fmt: skip
    [drift] = compare(kept["source"], [_read(db)])  # type: ignore[list-item]
    assert drift["currentHash"] != drift["storedHash"]
    lines = drift["differences"]
    assert "added tables.customer.columns.phone" in lines
    assert "removed tables.customer.columns.note" in lines
    assert "removed tables.item" in lines
