"""Foreign keys of existing target tables, set aside for the load and put back after it.

Units copy in any table order and in parallel, each batch in its own transaction, so a child
row can arrive before its parent row. Tables the migration creates get their foreign keys
after the load (`post_data`). A PostgreSQL target that already has the tables, with their
foreign keys, would refuse those rows. So before the copy the foreign keys *on* the migration's
target tables are dropped. Their definitions (`pg_get_constraintdef`) are recorded first, in the
same transaction, in `ferry._ferry_deferred_fks`. After the load they are re-created from that
record, whatever the source or the plan says. A crash between the two finds the record.

Foreign keys on other tables that reference the migration's tables are left alone: they do not
stop inserts. MySQL/MariaDB targets need none of this: the insert sessions run with
`foreign_key_checks = 0` (as mysqldump does). SQLite does not enforce foreign keys unless asked.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa

from ferry.copy.checkpoint_sql import PG_SCHEMA
from ferry.db.dialects import verbatim
from ferry.observability.errors import first_line

RECORD = f'{PG_SCHEMA}."_ferry_deferred_fks"'
_CREATE = (
    f"CREATE SCHEMA IF NOT EXISTS {PG_SCHEMA}",
    f"CREATE TABLE IF NOT EXISTS {RECORD} (migration_uid text NOT NULL, table_name text NOT NULL, "
    "constraint_name text NOT NULL, definition text NOT NULL, "
    "deferred_at timestamptz NOT NULL DEFAULT now(), "
    "PRIMARY KEY (migration_uid, table_name, constraint_name))",
)
# The foreign keys declared on the given tables (quoted names; those that do not exist match
# nothing), with each table's regclass text as PostgreSQL quotes it.
_ON_TABLES = (
    "SELECT c.conrelid::regclass::text AS table_name, c.conname AS name, "
    "pg_get_constraintdef(c.oid) AS definition FROM pg_constraint c "
    "WHERE c.contype = 'f' AND c.conrelid IN (SELECT to_regclass(t) FROM unnest(CAST(:tables AS text[])) t) "
    "ORDER BY 1, 2"
)


class RestoreError(Exception):
    """A deferred foreign key could not be re-created (the loaded rows break it); it stays recorded."""


@dataclass(frozen=True)
class DeferredKey:
    table: str  # as PostgreSQL prints the table's regclass: quoted where needed, schema when not on the path
    name: str
    definition: str

    @property
    def label(self) -> str:
        return f"{self.table}.{self.name}"


def defer_foreign_keys(
    engine: sa.Engine, migration_uid: str, tables: Sequence[tuple[str | None, str]]
) -> list[DeferredKey]:
    """Record and drop the foreign keys on the existing `tables` (schema, name); returns them.

    Idempotent: a second call finds nothing left to drop. Tables that do not exist are skipped."""
    if engine.dialect.name != "postgresql" or not tables:
        return []
    preparer = verbatim(engine.dialect).identifier_preparer  # for text() and as data: `%` not doubled
    names = [preparer.format_table(sa.Table(name, sa.MetaData(), schema=schema)) for schema, name in tables]
    with engine.begin() as conn:
        keys = [
            DeferredKey(row.table_name, row.name, row.definition)
            for row in conn.execute(sa.text(_ON_TABLES), {"tables": names})
        ]
        if not keys:
            return []
        for statement in _CREATE:
            conn.execute(sa.text(statement))
        for key in keys:
            conn.execute(
                sa.text(
                    f"INSERT INTO {RECORD} (migration_uid, table_name, constraint_name, definition) "
                    "VALUES (:uid, :table, :name, :definition) ON CONFLICT DO NOTHING"
                ),
                {"uid": migration_uid, "table": key.table, "name": key.name, "definition": key.definition},
            )
            conn.execute(sa.text(f"ALTER TABLE {key.table} DROP CONSTRAINT {preparer.quote(key.name)}"))
    return keys


def deferred_foreign_keys(engine: sa.Engine, migration_uid: str) -> list[DeferredKey]:
    """The foreign keys this migration dropped and has not re-created yet."""
    if engine.dialect.name != "postgresql":
        return []
    with engine.connect() as conn:
        if conn.execute(sa.text("SELECT to_regclass(:n)"), {"n": RECORD}).scalar() is None:
            return []
        rows = conn.execute(
            sa.text(
                f"SELECT table_name, constraint_name, definition FROM {RECORD} "
                "WHERE migration_uid = :uid ORDER BY table_name, constraint_name"
            ),
            {"uid": migration_uid},
        )
        return [DeferredKey(r.table_name, r.constraint_name, r.definition) for r in rows]


def restore_foreign_keys(engine: sa.Engine, migration_uid: str) -> list[DeferredKey]:
    """Re-create every recorded foreign key of the migration, each in its own transaction.

    A key that exists again (same table and name), or whose table is gone, is only forgotten.
    The first key the rows break raises `RestoreError` naming it; it and the keys after it stay
    recorded for a retry."""
    restored = []
    preparer = verbatim(engine.dialect).identifier_preparer  # for text() and as data: `%` not doubled
    for key in deferred_foreign_keys(engine, migration_uid):
        try:
            with engine.begin() as conn:
                # A table dropped since (a rollback of tables the migration created) has no key to restore.
                present = conn.execute(
                    sa.text(
                        "SELECT to_regclass(:table) IS NULL OR EXISTS (SELECT 1 FROM pg_constraint "
                        "WHERE conrelid = to_regclass(:table) AND conname = :name)"
                    ),
                    {"table": key.table, "name": key.name},
                ).scalar()
                if not present:
                    conn.exec_driver_sql(
                        f"ALTER TABLE {key.table} ADD CONSTRAINT {preparer.quote(key.name)} {key.definition}"
                    )
                conn.execute(
                    sa.text(
                        f"DELETE FROM {RECORD} WHERE migration_uid = :uid AND table_name = :table "
                        "AND constraint_name = :name"
                    ),
                    {"uid": migration_uid, "table": key.table, "name": key.name},
                )
        except sa.exc.DBAPIError as exc:
            first = first_line(exc.orig if exc.orig is not None else exc)
            raise RestoreError(f"re-creating foreign key {key.label} failed: {first}") from None
        restored.append(key)
    return restored
