"""Catalog readers for comparing PostgreSQL databases (`make compare`, bench/compare_objects.py).

Counts read the PostgreSQL catalogs of one database, over the user's schemas (not
pg_catalog, information_schema, pg_toast) and without the members of an extension (citext's
functions are the extension's, counted once under `extensions`). Each count is one query
returning one integer, so a kind is added by adding a line. Definitions come from the
server's own `pg_get_*def` functions, so two databases compare name by name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg

# Ferry's own schema `ferry` (its checkpoint table, kept for resume) is counted apart.
_USER_NS = (
    "SELECT oid FROM pg_namespace"
    " WHERE nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast', 'ferry')"
)
_NOT_EXT = "NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = {oid} AND d.deptype = 'e')"
_CLASS = f"SELECT count(*) FROM pg_class c WHERE c.relnamespace IN ({_USER_NS}) AND " + _NOT_EXT.format(
    oid="c.oid"
)
# A range type's constructor functions depend on it internally ('i'): they are the type's, not routines.
_PROC = f"SELECT count(*) FROM pg_proc p WHERE p.pronamespace IN ({_USER_NS}) AND " + _NOT_EXT.replace(
    "= 'e'", "IN ('e', 'i')"
).format(oid="p.oid")
_TYPE = f"SELECT count(*) FROM pg_type t WHERE t.typnamespace IN ({_USER_NS}) AND " + _NOT_EXT.format(
    oid="t.oid"
)
_USER_REL = f"SELECT c.oid FROM pg_class c WHERE c.relnamespace IN ({_USER_NS})"
_CONSTRAINT = f"SELECT count(*) FROM pg_constraint k WHERE k.conrelid IN ({_USER_REL}) AND k.contype = "
_ATTR = (
    "SELECT count(*) FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid "
    f"WHERE c.relnamespace IN ({_USER_NS}) AND a.attnum > 0 AND NOT a.attisdropped AND "
)

# kind -> a query returning one integer
COUNTS: dict[str, str] = {
    "schemas besides public": (
        "SELECT count(*) FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' "
        "AND nspname NOT IN ('information_schema', 'public')"
    ),
    "tables (incl. partitioned parents)": _CLASS + " AND c.relkind IN ('r', 'p') AND NOT c.relispartition",
    "partitions": _CLASS + " AND c.relispartition AND c.relkind IN ('r', 'p')",
    "views": _CLASS + " AND c.relkind = 'v'",
    "materialized views": _CLASS + " AND c.relkind = 'm'",
    "functions and procedures": _PROC + " AND p.prokind IN ('f', 'p')",
    "aggregates": _PROC + " AND p.prokind = 'a'",
    "triggers": (
        f"SELECT count(*) FROM pg_trigger g WHERE NOT g.tgisinternal AND g.tgrelid IN ({_USER_REL})"
    ),
    "sequences": _CLASS + " AND c.relkind = 'S'",
    "identity columns": _ATTR + "a.attidentity <> ''",
    "generated columns": _ATTR + "a.attgenerated <> ''",
    "indexes (incl. on partitions)": _CLASS + " AND c.relkind IN ('i', 'I')",
    "unique indexes (not primary keys)": (
        f"SELECT count(*) FROM pg_index i WHERE i.indrelid IN ({_USER_REL})"
        " AND i.indisunique AND NOT i.indisprimary"
    ),
    "primary keys": _CONSTRAINT + "'p'",
    "unique constraints": _CONSTRAINT + "'u'",
    "foreign keys": _CONSTRAINT + "'f'",
    "check constraints": _CONSTRAINT + "'c'",
    "exclusion constraints": _CONSTRAINT + "'x'",
    "enum types": _TYPE + " AND t.typtype = 'e'",
    "domains": _TYPE + " AND t.typtype = 'd'",
    "composite types": _TYPE
    + " AND t.typtype = 'c' AND (SELECT relkind FROM pg_class WHERE oid = t.typrelid) = 'c'",
    "range types": _TYPE + " AND t.typtype = 'r'",
    "extensions (besides plpgsql)": "SELECT count(*) FROM pg_extension WHERE extname <> 'plpgsql'",
    "row-level security policies": f"SELECT count(*) FROM pg_policy WHERE polrelid IN ({_USER_REL})",
    "tables with RLS enabled": _CLASS + " AND c.relrowsecurity",
    "comments": (
        "SELECT count(*) FROM pg_description d WHERE "
        f"(d.classoid = 'pg_class'::regclass AND d.objoid IN ({_USER_REL})) OR "
        f"(d.classoid = 'pg_proc'::regclass AND d.objoid IN (SELECT oid FROM pg_proc WHERE pronamespace IN ({_USER_NS}))) OR "  # noqa: E501
        f"(d.classoid = 'pg_type'::regclass AND d.objoid IN (SELECT oid FROM pg_type WHERE typnamespace IN ({_USER_NS})))"  # noqa: E501
    ),
}

# kind -> (name, definition) rows, compared with the source's: what differs, not only how many.
DEFINITIONS: dict[str, str] = {
    "columns": (
        "SELECT c.relname || '.' || a.attname, format_type(a.atttypid, a.atttypmod) || ' ' || a.attnotnull"
        " || ' ' || a.attidentity::text || a.attgenerated::text"
        " || ' ' || coalesce(pg_get_expr(d.adbin, d.adrelid), '')"
        " FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
        " LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
        f" WHERE c.relnamespace IN ({_USER_NS}) AND c.relkind IN ('r', 'p', 'v', 'm')"
        " AND a.attnum > 0 AND NOT a.attisdropped"
    ),
    "views": f"SELECT c.relname, pg_get_viewdef(c.oid) FROM pg_class c WHERE c.relnamespace IN ({_USER_NS})"
    " AND c.relkind IN ('v', 'm')",
    "functions": f"SELECT p.oid::regprocedure::text, pg_get_functiondef(p.oid) FROM pg_proc p"
    f" WHERE p.pronamespace IN ({_USER_NS}) AND p.prokind IN ('f', 'p')",
    "indexes": "SELECT c.relname, pg_get_indexdef(c.oid) FROM pg_class c"
    f" WHERE c.relnamespace IN ({_USER_NS}) AND c.relkind IN ('i', 'I')",
    "constraints": f"SELECT k.conrelid::regclass || '.' || k.conname, pg_get_constraintdef(k.oid)"
    f" FROM pg_constraint k WHERE k.conrelid IN ({_USER_REL})",
    "triggers": "SELECT t.tgrelid::regclass || '.' || t.tgname,"
    " pg_get_triggerdef(t.oid) || ' ' || t.tgenabled::text"
    f" FROM pg_trigger t WHERE NOT t.tgisinternal AND t.tgrelid IN ({_USER_REL})",
}

# One statement per user table, summed by the caller: the rows that arrived.
TABLES = (
    "SELECT format('%I.%I', n.nspname, c.relname)"
    " FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
    f"WHERE c.relnamespace IN ({_USER_NS}) AND c.relkind = 'r' AND " + _NOT_EXT.format(oid="c.oid")
)

# The type a column ended up with, found case-insensitively (pgloader folds `ID` to `id`).
COLUMN_TYPE = (
    "SELECT a.attname || ' ' || format_type(a.atttypid, a.atttypmod)"
    " || CASE a.attidentity WHEN 'a' THEN ' identity always' WHEN 'd' THEN ' identity by default' ELSE '' END"
    " || CASE WHEN pg_get_expr(d.adbin, d.adrelid) LIKE 'nextval(%%' THEN ' default nextval' ELSE '' END"
    " || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END"
    " FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid"
    " LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum"
    " WHERE c.oid = to_regclass(%s) AND lower(a.attname) = lower(%s) AND NOT a.attisdropped"
)


@dataclass(frozen=True)
class Probe:
    """A behaviour: `setup` runs, then `check` must return true, or (refused) must fail.

    Every probe runs in a transaction that is rolled back, so probes do not see each other.
    """

    name: str
    check: str
    setup: tuple[str, ...] = ()
    refused: bool = False


def count_objects(conn: psycopg.Connection[Any]) -> dict[str, int]:
    """Objects per kind in the connected database's user schemas (`compare_sql.COUNTS`)."""
    counts: dict[str, int] = {}
    for kind, sql in COUNTS.items():
        row = conn.execute(sql).fetchone()
        counts[kind] = int(row[0]) if row else 0
    return counts


def definitions(conn: psycopg.Connection[Any]) -> dict[str, dict[str, str]]:
    return {
        kind: {str(name): str(body) for name, body in conn.execute(sql).fetchall()}
        for kind, sql in DEFINITIONS.items()
    }


def differences(source: dict[str, dict[str, str]], target: dict[str, dict[str, str]]) -> dict[str, list[str]]:
    """Per kind, the names whose definition is missing, extra or not the same as on the source."""
    found: dict[str, list[str]] = {}
    for kind, objects in source.items():
        other = target.get(kind, {})
        found[kind] = sorted(n for n in objects.keys() | other.keys() if objects.get(n) != other.get(n))
    return found


def count_rows(conn: psycopg.Connection[Any]) -> int:
    tables = [str(r[0]) for r in conn.execute(TABLES).fetchall()]
    total = 0
    for table in tables:
        row = conn.execute(f"SELECT count(*) FROM {table}").fetchone()
        total += int(row[0]) if row else 0
    return total


def column_types(
    conn: psycopg.Connection[Any], schema: str, columns: tuple[tuple[str, str], ...]
) -> dict[str, str]:
    found: dict[str, str] = {}
    for table, column in columns:
        row = conn.execute(COLUMN_TYPE, (f'"{schema}".{table}', column)).fetchone()
        found[f"{table}.{column}"] = str(row[0]) if row else "missing"
    return found


def run_probes(conn: psycopg.Connection[Any], probes: tuple[Probe, ...]) -> dict[str, str]:
    """Each probe in a transaction rolled back: `ok`, `fails` or `error: <first line>`."""
    outcome: dict[str, str] = {}
    for probe in probes:
        try:
            with conn.transaction(force_rollback=True):
                for statement in probe.setup:
                    conn.execute(statement)
                if probe.refused:
                    try:
                        with conn.transaction():
                            conn.execute(probe.check)
                        outcome[probe.name] = "fails (accepted)"
                    except psycopg.Error:
                        outcome[probe.name] = "ok"
                else:
                    row = conn.execute(probe.check).fetchone()
                    outcome[probe.name] = "ok" if row and row[0] is True else "fails"
        except psycopg.Error as error:
            outcome[probe.name] = "error: " + str(error).splitlines()[0]
    return outcome
