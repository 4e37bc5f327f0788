"""Comments on tables, columns, views, materialized views, types and routines."""

from __future__ import annotations

import sqlalchemy as sa

from ferry.schema.model import PgObject

_COMMENTS = sa.text(
    """
    SELECT CASE WHEN d.objsubid = 0 THEN c.relname ELSE c.relname || '.' || a.attname END AS name,
           c.relname AS rel,
           CASE WHEN d.objsubid = 0
                THEN format('COMMENT ON %s %I.%I IS %L', CASE c.relkind WHEN 'v' THEN 'VIEW'
                            WHEN 'm' THEN 'MATERIALIZED VIEW' ELSE 'TABLE' END, n.nspname, c.relname,
                            d.description)
                ELSE format('COMMENT ON COLUMN %I.%I.%I IS %L', n.nspname, c.relname, a.attname,
                            d.description)
           END AS stmt
    FROM pg_description d JOIN pg_class c ON d.classoid = 'pg_class'::regclass AND d.objoid = c.oid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = d.objsubid
    WHERE n.nspname = :schema AND c.relkind IN ('r', 'p', 'v', 'm') AND NOT c.relispartition
    UNION ALL
    SELECT 'type ' || t.typname, NULL,
           format('COMMENT ON TYPE %I.%I IS %L', n.nspname, t.typname, d.description)
    FROM pg_description d JOIN pg_type t ON d.classoid = 'pg_type'::regclass AND d.objoid = t.oid
    JOIN pg_namespace n ON n.oid = t.typnamespace
    WHERE n.nspname = :schema
    UNION ALL
    SELECT 'routine ' || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')', NULL,
           format('COMMENT ON %s %I.%I(%s) IS %L', CASE p.prokind WHEN 'p' THEN 'PROCEDURE'
                  WHEN 'a' THEN 'AGGREGATE' ELSE 'FUNCTION' END, n.nspname, p.proname,
                  pg_get_function_identity_arguments(p.oid), d.description)
    FROM pg_description d JOIN pg_proc p ON d.classoid = 'pg_proc'::regclass AND d.objoid = p.oid
    JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = :schema
      AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_proc'::regclass AND x.objid = p.oid
                      AND x.deptype = 'e')
    ORDER BY 1
    """
)


def read(conn: sa.Connection, schema: str) -> list[PgObject]:
    return [
        PgObject("comment", r["name"], (r["stmt"],), depends=(r["rel"],) if r["rel"] else ())
        for r in conn.execute(_COMMENTS, {"schema": schema}).mappings()
    ]
