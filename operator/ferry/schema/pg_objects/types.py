"""Domains (with their defaults, NOT NULL and checks), composite types and range types.

Enums are read by `catalog_postgresql.enums` (the diff has known them longer). Creation order
is the types' OID order, which is the order they were created in on the source, so a domain
over a composite type comes after it.
"""

from __future__ import annotations

import sqlalchemy as sa

from ferry.schema.model import PgObject

_NOT_FROM_EXTENSION = """
    NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_type'::regclass AND x.objid = t.oid
                AND x.deptype = 'e')
"""

_TYPES = sa.text(
    f"""
    SELECT t.typname AS name, CASE t.typtype
      -- a domain as CREATE DOMAIN with its base type and collation, then one statement per default,
      -- NOT NULL and check: a target whose domain differs gets the statements it lacks (objects_plan)
      WHEN 'd' THEN ARRAY[format('CREATE DOMAIN %I.%I AS %s', n.nspname, t.typname,
                                 format_type(t.typbasetype, t.typtypmod))
        || CASE WHEN t.typcollation <> 0 AND t.typcollation <> b.typcollation
                THEN ' COLLATE ' || (SELECT format('%I.%I', cn.nspname, co.collname) FROM pg_collation co
                                     JOIN pg_namespace cn ON cn.oid = co.collnamespace
                                     WHERE co.oid = t.typcollation) ELSE '' END]
        -- typdefault is the text of the creating session (its search_path); pg_get_expr's is qualified
        || CASE WHEN COALESCE(t.typdefaultbin::text, t.typdefault) IS NULL THEN '{{}}'::text[]
                ELSE ARRAY[format('ALTER DOMAIN %I.%I SET DEFAULT ', n.nspname, t.typname)
                           || COALESCE(pg_get_expr(t.typdefaultbin, 'pg_type'::regclass), t.typdefault)] END
        || CASE WHEN t.typnotnull THEN ARRAY[format('ALTER DOMAIN %I.%I SET NOT NULL', n.nspname, t.typname)]
                ELSE '{{}}'::text[] END
        || ARRAY(SELECT format('ALTER DOMAIN %I.%I ADD CONSTRAINT %I %s', n.nspname, t.typname, c.conname,
                               pg_get_constraintdef(c.oid))
                 FROM pg_constraint c WHERE c.contypid = t.oid AND c.contype = 'c' ORDER BY c.conname)
      WHEN 'c' THEN ARRAY[format('CREATE TYPE %I.%I AS (%s)', n.nspname, t.typname,
        (SELECT string_agg(format('%I %s', a.attname, format_type(a.atttypid, a.atttypmod)), ', '
                           ORDER BY a.attnum)
         FROM pg_attribute a WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped))]
      WHEN 'r' THEN ARRAY[format('CREATE TYPE %I.%I AS RANGE (SUBTYPE = %s, SUBTYPE_OPCLASS = %I%s%s)',
        n.nspname, t.typname, format_type(r.rngsubtype, NULL), oc.opcname,
        CASE WHEN r.rngsubdiff <> 0 THEN ', SUBTYPE_DIFF = ' || r.rngsubdiff::regproc::text ELSE '' END,
        format(', MULTIRANGE_TYPE_NAME = %I.%I', n.nspname, mt.typname))]
      END AS stmts
    FROM pg_type t
    JOIN pg_namespace n ON n.oid = t.typnamespace
    LEFT JOIN pg_type b ON b.oid = t.typbasetype
    LEFT JOIN pg_class rel ON rel.oid = t.typrelid
    LEFT JOIN pg_range r ON r.rngtypid = t.oid
    LEFT JOIN pg_opclass oc ON oc.oid = r.rngsubopc
    LEFT JOIN pg_type mt ON mt.oid = r.rngmultitypid
    WHERE n.nspname = :schema AND {_NOT_FROM_EXTENSION}
      AND (t.typtype IN ('d', 'r') OR (t.typtype = 'c' AND rel.relkind = 'c'))
    ORDER BY t.oid
    """
)


def read(conn: sa.Connection, schema: str) -> list[PgObject]:
    return [
        PgObject("type", r["name"], tuple(r["stmts"]))
        for r in conn.execute(_TYPES, {"schema": schema}).mappings()
    ]
