"""Rules (`CREATE RULE`, pg_get_ruledef) on tables and views, not the `_RETURN` rule that makes a
view. Each depends on the relations of the schema it reads or writes, so it is created only when
they are all carried; a disabled rule stays disabled."""

from __future__ import annotations

import sqlalchemy as sa

from ferry.schema.model import PgObject

_RULES = sa.text(
    """
    SELECT c.relname AS table_name, r.rulename AS name, rtrim(pg_get_ruledef(r.oid), ';') AS stmt,
           CASE WHEN r.ev_enabled = 'D'
                THEN format('ALTER TABLE %I.%I DISABLE RULE %I', n.nspname, c.relname, r.rulename) END
             AS disable,
           ARRAY(SELECT DISTINCT dc.relname::text FROM pg_depend d
                 JOIN pg_class dc ON dc.oid = d.refobjid
                 WHERE d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid
                   AND d.refclassid = 'pg_class'::regclass AND dc.relnamespace = c.relnamespace
                 ORDER BY 1) AS depends
    FROM pg_rewrite r JOIN pg_class c ON c.oid = r.ev_class JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = :schema AND r.rulename <> '_RETURN' AND c.relkind IN ('r', 'p', 'v')
      AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_class'::regclass AND x.objid = c.oid
                      AND x.deptype = 'e')  -- on an extension's relation (PostGIS's geometry_columns)
    ORDER BY c.relname, r.rulename
    """
)


def read(conn: sa.Connection, schema: str) -> list[PgObject]:
    return [
        PgObject(
            "rule",
            f"{r['table_name']}.{r['name']}",
            (r["stmt"],) + ((r["disable"],) if r["disable"] else ()),
            depends=tuple(sorted({r["table_name"], *r["depends"]})),
        )
        for r in conn.execute(_RULES, {"schema": schema}).mappings()
    ]
