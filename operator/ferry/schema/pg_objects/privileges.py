"""Owners and grants of a schema's relations and routines, and the server's roles.

Grants are the ACL as `aclexplode` lists it, with the catalog's NULL ACL read as the default
it stands for (`acldefault`): a function nobody granted on is executable by PUBLIC, and a
source that revoked that must not look like one that never touched it. The owner's own
privileges are implicit and left out, so the two sides compare whatever role owns each.

Partitions (their rows are reached through the parent), sequences of identity and serial
columns (made with their table, under a name the target chooses) and objects of extensions
(`CREATE EXTENSION` brings them) are left out.
"""

from __future__ import annotations

import sqlalchemy as sa

from ferry.schema.model import Grant, ObjectPrivileges

# [grantee or PUBLIC, privilege, grantable] per entry, owner's own entries left out.
_GRANTS = """
    COALESCE((SELECT json_agg(json_build_array(g.grantee, g.privilege, g.grantable)
                              ORDER BY g.grantee, g.privilege)
              FROM (SELECT DISTINCT CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END
                                      AS grantee, a.privilege_type AS privilege, a.is_grantable AS grantable
                    FROM aclexplode(COALESCE({acl}, acldefault({type}, {owner}))) a
                    WHERE a.grantee <> {owner}) g), '[]'::json)
"""

_RELATION_GRANTS = _GRANTS.format(
    acl="c.relacl", type="(CASE WHEN c.relkind = 'S' THEN 's' ELSE 'r' END)::\"char\"", owner="c.relowner"
)
_ROUTINE_GRANTS = _GRANTS.format(acl="p.proacl", type="'f'::\"char\"", owner="p.proowner")

_RELATIONS = sa.text(
    f"""
    SELECT CASE c.relkind WHEN 'v' THEN 'view' WHEN 'm' THEN 'materialized_view' WHEN 'S' THEN 'sequence'
                ELSE 'table' END AS kind,
           c.relname AS name, pg_get_userbyid(c.relowner) AS owner,
           {_RELATION_GRANTS} AS grants
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = :schema AND c.relkind IN ('r', 'p', 'v', 'm', 'S') AND NOT c.relispartition
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                      AND d.deptype IN ('a', 'i', 'e'))
    ORDER BY c.relname
    """
)

_ROUTINES = sa.text(
    f"""
    SELECT CASE p.prokind WHEN 'p' THEN 'procedure' WHEN 'a' THEN 'aggregate' ELSE 'function' END AS kind,
           p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')' AS name,
           pg_get_userbyid(p.proowner) AS owner,
           {_ROUTINE_GRANTS} AS grants
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = :schema
      AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_proc'::regclass AND x.objid = p.oid
                      AND x.deptype IN ('e', 'i'))
    ORDER BY 2
    """
)

_ROLES = sa.text("SELECT rolname FROM pg_roles ORDER BY rolname")


def read(conn: sa.Connection, schema: str) -> tuple[ObjectPrivileges, ...]:
    return tuple(
        ObjectPrivileges(
            r["kind"], r["name"], r["owner"], tuple(Grant(g, p, bool(o)) for g, p, o in r["grants"])
        )
        for query in (_RELATIONS, _ROUTINES)
        for r in conn.execute(query, {"schema": schema}).mappings()
    )


def roles(conn: sa.Connection) -> tuple[str, ...]:
    return tuple(str(name) for name in conn.execute(_ROLES).scalars())
