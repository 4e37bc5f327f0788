"""Views and materialized views (pg_get_viewdef with their options), the indexes of materialized
views, and which relations of the schema each view reads (pg_depend through its rewrite rule),
so the plan creates them in dependency order and only when what they read is carried."""

from __future__ import annotations

import sqlalchemy as sa

from ferry.schema.model import PgObject

_VIEWS = sa.text(
    """
    SELECT c.relname AS name, c.relkind AS kind,
           format('CREATE %s %I.%I%s AS%s%s',
                  CASE c.relkind WHEN 'v' THEN 'VIEW' ELSE 'MATERIALIZED VIEW' END, n.nspname, c.relname,
                  CASE WHEN c.reloptions IS NOT NULL
                       THEN ' WITH (' || array_to_string(c.reloptions, ', ') || ')' ELSE '' END,
                  E'\n', rtrim(pg_get_viewdef(c.oid), ';')) AS stmt,
           ARRAY(SELECT DISTINCT dc.relname::text FROM pg_rewrite r
                 JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
                                 AND d.refclassid = 'pg_class'::regclass
                 JOIN pg_class dc ON dc.oid = d.refobjid
                 WHERE r.ev_class = c.oid AND dc.oid <> c.oid AND dc.relnamespace = c.relnamespace
                 ORDER BY 1) AS depends
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = :schema AND c.relkind IN ('v', 'm')
      AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_class'::regclass AND x.objid = c.oid
                      AND x.deptype = 'e')  -- an extension's (PostGIS's geometry_columns)
    ORDER BY c.oid
    """
)

_MATVIEW_INDEXES = sa.text(
    """
    SELECT c.relname AS view_name, i.relname AS name, pg_get_indexdef(i.oid) AS stmt
    FROM pg_index x JOIN pg_class c ON c.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = :schema AND c.relkind = 'm'
    ORDER BY c.relname, i.relname
    """
)


def read(conn: sa.Connection, schema: str) -> list[PgObject]:
    params = {"schema": schema}
    out = [
        PgObject(
            "view" if r["kind"] == "v" else "materialized_view", r["name"], (r["stmt"],), tuple(r["depends"])
        )
        for r in conn.execute(_VIEWS, params).mappings()
    ]
    out += [
        PgObject("view_index", f"{r['view_name']}.{r['name']}", (r["stmt"],), depends=(r["view_name"],))
        for r in conn.execute(_MATVIEW_INDEXES, params).mappings()
    ]
    return out
