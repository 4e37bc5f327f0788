"""What hangs off tables outside the column list: partitions (with their bounds) and the indexes
and constraints a partition has of its own (not cloned from its parent's), exclusion
constraints, inheritance (INHERITS), and grants (named in the plan when they are not carried)."""

from __future__ import annotations

import sqlalchemy as sa

from ferry.schema.model import PgObject

_PARTITIONS = sa.text(
    """
    SELECT c.relname AS name, p.relname AS parent,
           format('CREATE TABLE %I.%I PARTITION OF %I.%I %s', n.nspname, c.relname, n.nspname, p.relname,
                  pg_get_expr(c.relpartbound, c.oid))
             || CASE WHEN c.relkind = 'p' THEN ' PARTITION BY ' || pg_get_partkeydef(c.oid) ELSE '' END
           AS stmt
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_inherits i ON i.inhrelid = c.oid JOIN pg_class p ON p.oid = i.inhparent
    WHERE n.nspname = :schema AND c.relispartition AND c.relkind IN ('r', 'p')  -- not index partitions
    ORDER BY c.oid
    """
)

_EXCLUSIONS = sa.text(
    """
    SELECT c.relname AS table_name, k.conname AS name,
           format('ALTER TABLE %I.%I ADD CONSTRAINT %I %s', n.nspname, c.relname, k.conname,
                  pg_get_constraintdef(k.oid)) AS stmt
    FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = :schema AND k.contype = 'x' AND NOT c.relispartition
    ORDER BY c.relname, k.conname
    """
)

_PARTITION_INDEXES = sa.text(
    """
    SELECT c.relname AS table_name, i.relname AS name, pg_get_indexdef(i.oid) AS stmt
    FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = :schema AND c.relispartition AND NOT i.relispartition
      AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.oid AND k.conrelid = c.oid)
    ORDER BY c.relname, i.relname
    """
)

_PARTITION_CONSTRAINTS = sa.text(
    """
    SELECT c.relname AS table_name, k.conname AS name,
           format('ALTER TABLE %I.%I ADD CONSTRAINT %I %s', n.nspname, c.relname, k.conname,
                  pg_get_constraintdef(k.oid)) AS stmt
    FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = :schema AND c.relispartition AND k.conparentid = 0 AND k.conislocal
      AND k.contype IN ('p', 'u', 'f', 'c', 'x')
    ORDER BY c.relname, k.contype = 'f', k.conname
    """
)

# A table's parents in declaration order (inhseqno), each as ALTER TABLE ... INHERIT: the child is
# created with all its columns and checks like any table and joins its parents after the load.
_INHERITS = sa.text(
    """
    SELECT c.relname AS name,
           array_agg(p.relname::text ORDER BY i.inhseqno) AS parents,
           array_agg(format('ALTER TABLE %I.%I INHERIT %I.%I', n.nspname, c.relname, pn.nspname, p.relname)
                     ORDER BY i.inhseqno) AS stmts
    FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid JOIN pg_class p ON p.oid = i.inhparent
    JOIN pg_namespace n ON n.oid = c.relnamespace JOIN pg_namespace pn ON pn.oid = p.relnamespace
    WHERE n.nspname = :schema AND NOT c.relispartition AND c.relkind = 'r'
    GROUP BY c.relname
    ORDER BY c.relname
    """
)

# What grants something beyond its owner's defaults, to name when privileges are not carried
# (`schema.privileges: skip`): each with the table it belongs to, if any (named when selected).
_NOT_EXTENSION = """NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = '{catalog}'::regclass
                                  AND x.objid = {oid} AND x.deptype = 'e')"""
_GRANTS = sa.text(
    f"""
    SELECT c.relname AS name, CASE WHEN c.relkind IN ('r', 'p') THEN c.relname END AS table_name
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = :schema AND c.relkind IN ('r', 'p', 'v', 'm', 'S') AND c.relacl IS NOT NULL
      AND NOT c.relispartition AND {_NOT_EXTENSION.format(catalog="pg_class", oid="c.oid")}
    UNION ALL
    SELECT 'column ' || c.relname || '.' || a.attname, c.relname
    FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = :schema AND a.attacl IS NOT NULL AND NOT a.attisdropped AND NOT c.relispartition
    UNION ALL
    -- the schema: when it grants more than it was made with (public's USAGE to PUBLIC: pg_init_privs)
    SELECT 'schema ' || n.nspname, NULL
    FROM pg_namespace n
    LEFT JOIN pg_init_privs ip ON ip.classoid = 'pg_namespace'::regclass AND ip.objoid = n.oid
    WHERE n.nspname = :schema
      AND EXISTS (SELECT 1 FROM aclexplode(n.nspacl) a WHERE a.grantee <> n.nspowner
                  AND NOT EXISTS (SELECT 1
                                  FROM aclexplode(COALESCE(ip.initprivs, acldefault('n', n.nspowner))) i
                                  WHERE (i.grantee, i.privilege_type, i.is_grantable)
                                        = (a.grantee, a.privilege_type, a.is_grantable)))
    UNION ALL
    SELECT CASE t.typtype WHEN 'd' THEN 'domain ' ELSE 'type ' END || t.typname, NULL
    FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
    WHERE n.nspname = :schema AND t.typacl IS NOT NULL
      AND {_NOT_EXTENSION.format(catalog="pg_type", oid="t.oid")}
    UNION ALL
    SELECT CASE p.prokind WHEN 'p' THEN 'procedure ' ELSE 'function ' END
           || p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')', NULL
    FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
    WHERE n.nspname = :schema AND p.proacl IS NOT NULL
      AND {_NOT_EXTENSION.format(catalog="pg_proc", oid="p.oid")}
    UNION ALL
    SELECT 'default privileges for ' || pg_get_userbyid(d.defaclrole) || ' on '
           || CASE d.defaclobjtype WHEN 'r' THEN 'tables' WHEN 'S' THEN 'sequences' WHEN 'f' THEN 'functions'
                   WHEN 'T' THEN 'types' ELSE 'schemas' END, NULL
    FROM pg_default_acl d JOIN pg_namespace n ON n.oid = d.defaclnamespace
    WHERE n.nspname = :schema
    ORDER BY 1
    """
)


def read(conn: sa.Connection, schema: str) -> list[PgObject]:
    params = {"schema": schema}
    out = [
        PgObject("partition", r["name"], (r["stmt"],), depends=(r["parent"],))
        for r in conn.execute(_PARTITIONS, params).mappings()
    ]
    out += [
        PgObject("exclusion", f"{r['table_name']}.{r['name']}", (r["stmt"],), depends=(r["table_name"],))
        for r in conn.execute(_EXCLUSIONS, params).mappings()
    ]
    out += [
        PgObject(
            "partition_index", f"{r['table_name']}.{r['name']}", (r["stmt"],), depends=(r["table_name"],)
        )
        for r in conn.execute(_PARTITION_INDEXES, params).mappings()
    ]
    out += [
        PgObject("partition_constraint", f"{r['table_name']}.{r['name']}", (r["stmt"],), (r["table_name"],))
        for r in conn.execute(_PARTITION_CONSTRAINTS, params).mappings()
    ]
    out += [
        PgObject("inherits", r["name"], tuple(r["stmts"]), depends=(r["name"], *r["parents"]))
        for r in conn.execute(_INHERITS, params).mappings()
    ]
    out += [
        PgObject("grants", r["name"], (), depends=(r["table_name"],) if r["table_name"] else ())
        for r in conn.execute(_GRANTS, params).mappings()
    ]
    return out
