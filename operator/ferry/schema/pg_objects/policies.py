"""Row-level security: each table's ENABLE/FORCE flags and its policies (from pg_policy, as
pg_dump writes them). Policies name roles: those must exist on the target."""

from __future__ import annotations

import sqlalchemy as sa

from ferry.schema.model import PgObject

_FLAGS = sa.text(
    """
    SELECT c.relname AS name,
           format('ALTER TABLE %I.%I ENABLE ROW LEVEL SECURITY', n.nspname, c.relname) AS en,
           CASE WHEN c.relforcerowsecurity
                THEN format('ALTER TABLE %I.%I FORCE ROW LEVEL SECURITY', n.nspname, c.relname) END AS force
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = :schema AND c.relkind IN ('r', 'p') AND c.relrowsecurity
    ORDER BY c.relname
    """
)

_POLICIES = sa.text(
    """
    SELECT c.relname AS table_name, p.polname AS name,
           format('CREATE POLICY %I ON %I.%I AS %s FOR %s TO %s', p.polname, n.nspname, c.relname,
                  CASE WHEN p.polpermissive THEN 'PERMISSIVE' ELSE 'RESTRICTIVE' END,
                  CASE p.polcmd WHEN 'r' THEN 'SELECT' WHEN 'a' THEN 'INSERT' WHEN 'w' THEN 'UPDATE'
                                WHEN 'd' THEN 'DELETE' ELSE 'ALL' END,
                  CASE WHEN p.polroles = '{0}' THEN 'PUBLIC'
                       ELSE (SELECT string_agg(quote_ident(rolname), ', ' ORDER BY rolname)
                             FROM pg_roles WHERE oid = ANY (p.polroles)) END)
             || COALESCE(' USING (' || pg_get_expr(p.polqual, p.polrelid) || ')', '')
             || COALESCE(' WITH CHECK (' || pg_get_expr(p.polwithcheck, p.polrelid) || ')', '') AS stmt
    FROM pg_policy p JOIN pg_class c ON c.oid = p.polrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = :schema
    ORDER BY c.relname, p.polname
    """
)


# Tables whose rows row-level security would hide from the connected user: read with
# row_security = off (ferry.copy.endpoints), the copy of such a table fails, so the plan says so
# first. Owners are exempt unless FORCE; superusers and BYPASSRLS roles always.
_HIDDEN_ROWS = sa.text(
    """
    SELECT c.relname AS name
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = :schema AND c.relkind IN ('r', 'p') AND c.relrowsecurity
      AND (c.relforcerowsecurity OR NOT pg_has_role(c.relowner, 'USAGE'))
      AND NOT (SELECT rolsuper OR rolbypassrls FROM pg_roles WHERE rolname = current_user)
    ORDER BY c.relname
    """
)


def read(conn: sa.Connection, schema: str) -> list[PgObject]:
    params = {"schema": schema}
    out = [
        PgObject("row_security", r["name"], (r["en"], r["force"]) if r["force"] else (r["en"],), (r["name"],))
        for r in conn.execute(_FLAGS, params).mappings()
    ]
    out += [PgObject("hidden_rows", r["name"], ()) for r in conn.execute(_HIDDEN_ROWS, params).mappings()]
    out += [
        PgObject("policy", f"{r['table_name']}.{r['name']}", (r["stmt"],), depends=(r["table_name"],))
        for r in conn.execute(_POLICIES, params).mappings()
    ]
    return out
