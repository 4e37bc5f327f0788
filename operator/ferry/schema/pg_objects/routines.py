"""Functions and procedures (pg_get_functiondef) and plain aggregates (rebuilt from pg_aggregate,
which has no deparse function). A routine whose signature uses a table's row type depends on
that table (created after it, and only when it is carried); the others are created before the
tables, whose defaults, checks, generated columns and indexes may call them. Ordered-set and
hypothetical-set aggregates are named as not carried (an `unsupported` object the plan turns
into a warning)."""

from __future__ import annotations

import sqlalchemy as sa

from ferry.schema.model import PgObject

_NOT_FROM_EXTENSION = """
    NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_proc'::regclass AND x.objid = p.oid
                AND x.deptype IN ('e', 'i'))
"""
# deptype 'e': owned by an extension; 'i': made with another object (a range type's constructors).

_FUNCTIONS = sa.text(
    f"""
    SELECT p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' AS name,
           pg_get_functiondef(p.oid) AS stmt,
           -- tables whose row type the signature uses: the routine is made after them
           ARRAY(SELECT DISTINCT c.relname::text FROM pg_type t JOIN pg_class c ON c.oid = t.typrelid
                 WHERE c.relkind IN ('r', 'p')
                   AND t.oid = ANY (p.prorettype || COALESCE(p.proallargtypes, p.proargtypes::oid[]))
                 ORDER BY 1) AS row_types
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = :schema AND p.prokind IN ('f', 'p', 'w') AND {_NOT_FROM_EXTENSION}
    ORDER BY p.oid
    """
)

_AGGREGATES = sa.text(
    f"""
    SELECT p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' AS name, a.aggkind,
           format('CREATE AGGREGATE %I.%I(%s) (SFUNC = %s, STYPE = %s%s%s%s)', n.nspname, p.proname,
                  pg_get_function_identity_arguments(p.oid), a.aggtransfn::text,
                  format_type(a.aggtranstype, NULL),
                  CASE WHEN a.aggfinalfn <> 0 THEN ', FINALFUNC = ' || a.aggfinalfn::regproc ELSE '' END,
                  CASE WHEN a.agginitval IS NOT NULL THEN ', INITCOND = ' || quote_literal(a.agginitval)
                       ELSE '' END,
                  CASE WHEN a.aggcombinefn <> 0 THEN ', COMBINEFUNC = ' || a.aggcombinefn::regproc
                       ELSE '' END) AS stmt
    FROM pg_aggregate a JOIN pg_proc p ON p.oid = a.aggfnoid JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = :schema AND {_NOT_FROM_EXTENSION}
    ORDER BY p.oid
    """
)


def read(conn: sa.Connection, schema: str) -> list[PgObject]:
    out = [
        PgObject("function", r["name"], (r["stmt"].rstrip(),), depends=tuple(r["row_types"]))
        for r in conn.execute(_FUNCTIONS, {"schema": schema}).mappings()
    ]
    for r in conn.execute(_AGGREGATES, {"schema": schema}).mappings():
        kind = "aggregate" if r["aggkind"] == "n" else "unsupported"
        out.append(
            PgObject(kind, f"aggregate {r['name']}" if kind == "unsupported" else r["name"], (r["stmt"],))
        )
    return out
