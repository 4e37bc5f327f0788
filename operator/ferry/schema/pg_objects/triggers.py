"""Triggers of tables (pg_get_triggerdef), not the internal ones (foreign keys) nor the copies a
partition inherits from its parent's trigger. A disabled trigger stays disabled."""

from __future__ import annotations

import sqlalchemy as sa

from ferry.schema.model import PgObject

_TRIGGERS = sa.text(
    """
    SELECT c.relname AS table_name, t.tgname AS name, pg_get_triggerdef(t.oid) AS stmt,
           CASE WHEN t.tgenabled = 'D'
                THEN format('ALTER TABLE %I.%I DISABLE TRIGGER %I', n.nspname, c.relname, t.tgname) END
             AS disable
    FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = :schema AND NOT t.tgisinternal AND t.tgparentid = 0
    ORDER BY c.relname, t.tgname
    """
)


def read(conn: sa.Connection, schema: str) -> list[PgObject]:
    return [
        PgObject(
            "trigger",
            f"{r['table_name']}.{r['name']}",
            (r["stmt"], r["disable"]) if r["disable"] else (r["stmt"],),
            depends=(r["table_name"],),
        )
        for r in conn.execute(_TRIGGERS, {"schema": schema}).mappings()
    ]
