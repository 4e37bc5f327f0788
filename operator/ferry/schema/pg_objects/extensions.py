"""Extensions installed in the database, with the types each one owns (so the plan can tell
which extension a column type needs: citext, hstore, ltree, geometry)."""

from __future__ import annotations

import sqlalchemy as sa

from ferry.schema.model import PgObject

_EXTENSIONS = sa.text(
    """
    SELECT e.extname AS name,
           format('CREATE EXTENSION IF NOT EXISTS %I WITH SCHEMA %I', e.extname, n.nspname) AS stmt,
           ARRAY(SELECT t.typname::text FROM pg_depend d JOIN pg_type t ON t.oid = d.objid
                  WHERE d.refclassid = 'pg_extension'::regclass AND d.refobjid = e.oid
                    AND d.classid = 'pg_type'::regclass AND d.deptype = 'e' ORDER BY 1) AS types
    FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
    WHERE e.extname <> 'plpgsql'  -- always installed
    ORDER BY e.extname
    """
)

_AVAILABLE = sa.text("SELECT name FROM pg_available_extensions ORDER BY name")


def read(conn: sa.Connection, schema: str) -> list[PgObject]:
    """All extensions of the database (not only of `schema`): a type of an extension installed
    elsewhere may still be used by the schema's tables."""
    return [
        PgObject("extension", r["name"], (r["stmt"],), provides=tuple(r["types"]))
        for r in conn.execute(_EXTENSIONS).mappings()
    ]


def available(conn: sa.Connection) -> tuple[str, ...]:
    return tuple(r[0] for r in conn.execute(_AVAILABLE))
