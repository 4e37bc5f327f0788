"""Casts the database's users made (not the server's, nor those a range type or an extension
brings) that involve a type or function of the schema, as `CREATE CAST`. A cast belongs to the
database, not to a schema: it is named by its two types, without their schema, so the same cast
is found on a target whose schema has another name.

A cast needs its function, which needs the tables whose row type its signature uses: the cast
depends on those tables, and is made after the routines (ferry.schema.operations.ORDER).
"""

from __future__ import annotations

import sqlalchemy as sa

from ferry.schema.model import PgObject

_CASTS = sa.text(
    """
    SELECT format('(%s AS %s)', st.typname, tt.typname) AS name,
           format('CREATE CAST (%s AS %s) %s%s',
                  format_type(c.castsource, NULL), format_type(c.casttarget, NULL),
                  CASE c.castmethod WHEN 'f' THEN 'WITH FUNCTION ' || c.castfunc::regprocedure::text
                                    WHEN 'i' THEN 'WITH INOUT' ELSE 'WITHOUT FUNCTION' END,
                  CASE c.castcontext WHEN 'a' THEN ' AS ASSIGNMENT' WHEN 'i' THEN ' AS IMPLICIT' ELSE '' END)
             AS stmt,
           ARRAY(SELECT DISTINCT r.relname::text FROM pg_class r
                 WHERE r.relkind IN ('r', 'p', 'v', 'm') AND r.relnamespace = n.oid
                   AND r.reltype = ANY (ARRAY[c.castsource, c.casttarget]
                                        || COALESCE((SELECT p.prorettype || p.proargtypes::oid[]
                                                     FROM pg_proc p WHERE p.oid = c.castfunc), '{}'))
                 ORDER BY 1) AS depends
    FROM pg_cast c
    JOIN pg_type st ON st.oid = c.castsource JOIN pg_type tt ON tt.oid = c.casttarget
    JOIN pg_namespace n ON n.nspname = :schema
    WHERE c.oid >= 16384  -- FirstNormalObjectId: not the server's own
      -- nor one that comes with a type (a range's casts to its multirange) or an extension
      AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_cast'::regclass AND x.objid = c.oid
                      AND x.deptype IN ('e', 'i'))
      AND (st.typnamespace = n.oid OR tt.typnamespace = n.oid
           OR EXISTS (SELECT 1 FROM pg_proc p WHERE p.oid = c.castfunc AND p.pronamespace = n.oid))
    ORDER BY c.oid
    """
)


def read(conn: sa.Connection, schema: str) -> list[PgObject]:
    return [
        PgObject("cast", r["name"], (r["stmt"],), depends=tuple(r["depends"]))
        for r in conn.execute(_CASTS, {"schema": schema}).mappings()
    ]
