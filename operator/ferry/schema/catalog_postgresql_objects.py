"""PostgreSQL catalog queries for the objects a MySQL/MariaDB source adds: triggers, extensions.

Kept apart from `catalog_postgresql` (columns, relations, enums): these only let a re-plan see
what an earlier plan created (`on update` triggers, the citext extension), so it converges.
"""

from __future__ import annotations

import sqlalchemy as sa

from ferry.schema.model import Trigger

_TRIGGERS = sa.text(
    """
    SELECT c.relname AS table_name, t.tgname AS name
    FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = :schema AND NOT t.tgisinternal
    ORDER BY c.relname, t.tgname
    """
)

_EXTENSIONS = sa.text("SELECT extname FROM pg_extension ORDER BY extname")


def triggers(conn: sa.Connection, schema: str) -> dict[str, tuple[Trigger, ...]]:
    """User triggers by table name (foreign-key triggers are internal and left out)."""
    out: dict[str, list[Trigger]] = {}
    for row in conn.execute(_TRIGGERS, {"schema": schema}).mappings():
        out.setdefault(row["table_name"], []).append(Trigger(row["name"]))
    return {name: tuple(found) for name, found in out.items()}


def extensions(conn: sa.Connection) -> tuple[str, ...]:
    return tuple(str(name) for name in conn.execute(_EXTENSIONS).scalars())
