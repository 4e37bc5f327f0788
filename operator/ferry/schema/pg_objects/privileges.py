"""Owners and grants of a schema's relations and routines, its columns, types and domains, the
sequences of its identity and serial columns, the schema itself and its `ALTER DEFAULT PRIVILEGES`
entries; and the server's roles.

Grants are the ACL as `aclexplode` lists it, with the catalog's NULL ACL read as the default
it stands for (`acldefault`): a function nobody granted on is executable by PUBLIC, and a
source that revoked that must not look like one that never touched it. The owner's own
privileges are implicit and left out, so the two sides compare whatever role owns each.

Partitions (their rows are reached through the parent) and objects of extensions (`CREATE
EXTENSION` brings them) are left out; the sequence of an identity or serial column is named by
its column (`owned_sequence`, "table.column"): the target names its own.
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

_ATTACL_GRANTS = _GRANTS.format(acl="a.attacl", type="'c'::\"char\"", owner="c.relowner")
_NSPACL_GRANTS = _GRANTS.format(acl="n.nspacl", type="'n'::\"char\"", owner="n.nspowner")
_TYPACL_GRANTS = _GRANTS.format(acl="t.typacl", type="'T'::\"char\"", owner="t.typowner")
_RELACL_GRANTS = _GRANTS.format(acl="s.relacl", type="'s'::\"char\"", owner="s.relowner")
_DEFACLACL_GRANTS = _GRANTS.format(acl="d.defaclacl", type="'r'::\"char\"", owner="d.defaclrole")

# Column grants (a NULL column ACL grants nothing), on the relations _RELATIONS reads.
_COLUMNS = sa.text(
    f"""
    SELECT 'column' AS kind, c.relname || '.' || a.attname AS name, pg_get_userbyid(c.relowner) AS owner,
           {_ATTACL_GRANTS} AS grants
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = :schema AND c.relkind IN ('r', 'p', 'v', 'm') AND NOT c.relispartition
      AND a.attnum > 0 AND NOT a.attisdropped AND a.attacl IS NOT NULL
    ORDER BY 2
    """
)

# The schema itself (USAGE, CREATE); its owner is the target's business (public belongs to the
# database's owner) and is not carried.
_SCHEMA = sa.text(
    f"""
    SELECT 'schema' AS kind, n.nspname AS name, pg_get_userbyid(n.nspowner) AS owner,
           {_NSPACL_GRANTS} AS grants
    FROM pg_namespace n WHERE n.nspname = :schema
    """
)

# Enums, domains, composite and range types (not tables' row types, arrays, multiranges, nor an
# extension's).
_TYPES = sa.text(
    f"""
    SELECT CASE t.typtype WHEN 'd' THEN 'domain' ELSE 'type' END AS kind, t.typname AS name,
           pg_get_userbyid(t.typowner) AS owner,
           {_TYPACL_GRANTS} AS grants
    FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace LEFT JOIN pg_class r ON r.oid = t.typrelid
    WHERE n.nspname = :schema AND t.typtype IN ('d', 'e', 'c', 'r') AND (t.typtype <> 'c' OR r.relkind = 'c')
      AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_type'::regclass AND x.objid = t.oid
                      AND x.deptype = 'e')
    ORDER BY 2
    """
)

# The sequence of an identity or serial column, by its column: the target's may have another name.
_OWNED_SEQUENCES = sa.text(
    f"""
    SELECT 'owned_sequence' AS kind, t.relname || '.' || a.attname AS name,
           pg_get_userbyid(s.relowner) AS owner,
           {_RELACL_GRANTS} AS grants
    FROM pg_class s JOIN pg_namespace n ON n.oid = s.relnamespace
    JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.oid
         AND d.refclassid = 'pg_class'::regclass
         AND d.refobjsubid > 0 AND d.deptype IN ('a', 'i')
    JOIN pg_class t ON t.oid = d.refobjid AND t.relnamespace = s.relnamespace
    JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = d.refobjsubid
    WHERE n.nspname = :schema AND s.relkind = 'S' AND NOT t.relispartition
    ORDER BY 2
    """
)

# ALTER DEFAULT PRIVILEGES ... IN SCHEMA entries: by the role whose new objects they apply to
# (`owner`) and the kind of object (`name`); they only ever add to the global defaults.
_DEFAULT_PRIVILEGES = sa.text(
    f"""
    SELECT 'default_privileges' AS kind,
           CASE d.defaclobjtype WHEN 'r' THEN 'tables' WHEN 'S' THEN 'sequences' WHEN 'f' THEN 'functions'
                WHEN 'T' THEN 'types' ELSE 'schemas' END AS name,
           pg_get_userbyid(d.defaclrole) AS owner,
           {_DEFACLACL_GRANTS} AS grants
    FROM pg_default_acl d JOIN pg_namespace n ON n.oid = d.defaclnamespace
    WHERE n.nspname = :schema
    ORDER BY 3, 2
    """
)

_ROLES = sa.text("SELECT rolname FROM pg_roles ORDER BY rolname")


def read(conn: sa.Connection, schema: str) -> tuple[ObjectPrivileges, ...]:
    return tuple(
        ObjectPrivileges(
            r["kind"], r["name"], r["owner"], tuple(Grant(g, p, bool(o)) for g, p, o in r["grants"])
        )
        for query in (_RELATIONS, _ROUTINES, _COLUMNS, _SCHEMA, _TYPES, _OWNED_SEQUENCES, _DEFAULT_PRIVILEGES)
        for r in conn.execute(query, {"schema": schema}).mappings()
    )


def roles(conn: sa.Connection) -> tuple[str, ...]:
    return tuple(str(name) for name in conn.execute(_ROLES).scalars())
