"""PostgreSQL catalog queries that the SQLAlchemy inspector answers too coarsely.

The inspector turns types into SQLAlchemy objects (losing domains, enum names and exact
modifiers); `format_type()` gives the text PostgreSQL itself would print. Row estimates come
from `pg_class.reltuples`, partitions from `pg_class.relispartition`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import sqlalchemy as sa

from ferry.schema.model import Column, EnumType, Sequence

_COLUMNS = sa.text(
    """
    SELECT c.relname AS table_name, a.attname AS name,
           format_type(a.atttypid, a.atttypmod) AS type,
           t.typtype AS typtype,
           CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END AS base_type,
           t.typname AS typname,
           NOT a.attnotnull AS nullable,
           pg_get_expr(d.adbin, d.adrelid) AS default_expr,
           a.attidentity AS identity, a.attgenerated AS generated,
           s.seqstart AS identity_start, s.seqincrement AS identity_increment,
           CASE WHEN a.attcollation <> t.typcollation
                THEN (SELECT quote_ident(co.collname) FROM pg_collation co WHERE co.oid = a.attcollation)
           END AS collation
    FROM pg_attribute a
    JOIN pg_class c ON c.oid = a.attrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_type t ON t.oid = a.atttypid
    LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
    -- the sequence behind an identity column (its START and INCREMENT)
    LEFT JOIN pg_depend sd ON a.attidentity <> '' AND sd.refclassid = 'pg_class'::regclass
         AND sd.refobjid = c.oid AND sd.refobjsubid = a.attnum AND sd.classid = 'pg_class'::regclass
         AND sd.deptype = 'i'
    LEFT JOIN pg_sequence s ON s.seqrelid = sd.objid
    WHERE n.nspname = :schema AND c.relkind IN ('r', 'p') AND a.attnum > 0 AND NOT a.attisdropped
    ORDER BY c.relname, a.attnum
    """
)

_RELATIONS = sa.text(
    """
    SELECT c.relname AS name, c.relkind AS kind, c.relispartition AS is_partition,
           GREATEST(c.reltuples, 0)::bigint AS estimate,
           (SELECT COALESCE(SUM(GREATEST(p.reltuples, 0)), 0)::bigint
              FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhrelid
             WHERE i.inhparent = c.oid) AS partition_estimate
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = :schema AND c.relkind IN ('r', 'p', 'v', 'm', 'S')
      -- an extension's own relations (PostGIS's spatial_ref_sys) come with CREATE EXTENSION
      AND NOT EXISTS (SELECT 1 FROM pg_depend x WHERE x.classid = 'pg_class'::regclass AND x.objid = c.oid
                      AND x.deptype = 'e')
    ORDER BY c.relname
    """
)

_ENUMS = sa.text(
    """
    SELECT t.typname AS name, array_agg(e.enumlabel ORDER BY e.enumsortorder) AS labels
    FROM pg_type t JOIN pg_enum e ON e.enumtypid = t.oid JOIN pg_namespace n ON n.oid = t.typnamespace
    WHERE n.nspname = :schema GROUP BY t.typname ORDER BY t.typname
    """
)

_DOMAINS = sa.text(
    """
    SELECT t.typname AS name, format_type(t.typbasetype, t.typtypmod) AS base
    FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
    WHERE n.nspname = :schema AND t.typtype = 'd' ORDER BY t.typname
    """
)

# The column a sequence belongs to: `serial` (deptype 'a') or identity (deptype 'i').
_SEQUENCES = sa.text(
    """
    SELECT c.relname AS name, format_type(s.seqtypid, NULL) AS type, s.seqstart AS start,
           s.seqincrement AS increment, s.seqmin AS min_value, s.seqmax AS max_value,
           s.seqcycle AS cycle, oc.relname AS owner_table, a.attname AS owner_column
    FROM pg_sequence s
    JOIN pg_class c ON c.oid = s.seqrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = c.oid
         AND d.refclassid = 'pg_class'::regclass AND d.refobjsubid > 0 AND d.deptype IN ('a', 'i')
    LEFT JOIN pg_class oc ON oc.oid = d.refobjid AND oc.relnamespace = c.relnamespace
    LEFT JOIN pg_attribute a ON a.attrelid = oc.oid AND a.attnum = d.refobjsubid
    WHERE n.nspname = :schema ORDER BY c.relname
    """
)

_ALIASES = (
    (re.compile(r"\bcharacter varying\b"), "varchar"),
    (re.compile(r"\bcharacter\b"), "char"),
    (re.compile(r"\btimestamp(\(\d\))? without time zone\b"), r"timestamp\1"),
    (re.compile(r"\btimestamp(\(\d\))? with time zone\b"), r"timestamptz\1"),
    (re.compile(r"\btime(\(\d\))? without time zone\b"), r"time\1"),
    (re.compile(r"\btime(\(\d\))? with time zone\b"), r"timetz\1"),
    (re.compile(r"\bbit varying\b"), "varbit"),
)


def normalize_type(text: str) -> str:
    """PostgreSQL's own spelling, shortened to the common aliases: `character varying(80)` ->
    `varchar(80)`, `timestamp with time zone` -> `timestamptz`. Schema qualifiers of user
    types are dropped (the model is per schema)."""
    out = text.strip()
    for pattern, repl in _ALIASES:
        out = pattern.sub(repl, out)
    out = re.sub(r'^(?:"[^"]+"|[a-z_][a-z0-9_$]*)\.', "", out)  # schema qualifier
    return out.replace('"', "")


@dataclass(frozen=True)
class Relations:
    tables: dict[str, int]  # name -> row estimate (partitions summed into their parent)
    partitioned: set[str]
    partitions: list[str]
    views: list[str]
    sequences: list[str]


_SEARCH_PATH = sa.text("SELECT pg_catalog.current_setting('search_path')")
_SET_SEARCH_PATH = sa.text("SELECT pg_catalog.set_config('search_path', :path, false)")


@contextmanager
def qualified_names(conn: sa.Connection) -> Iterator[None]:
    """Run the block with an empty search_path, as pg_dump does: the deparse functions
    (pg_get_expr, pg_get_viewdef, pg_get_functiondef, pg_get_triggerdef, pg_get_constraintdef,
    pg_get_indexdef, format_type) then qualify every name outside pg_catalog, so a definition
    means the same in any session and can be moved to another schema by its qualifiers
    (ferry.schema.pg_retarget). The connection's search_path is set back afterwards; after an
    error the rollback that ends the connection's transaction undoes the change."""
    path = conn.execute(_SEARCH_PATH).scalar_one()
    conn.execute(_SET_SEARCH_PATH, {"path": ""})
    yield
    conn.execute(_SET_SEARCH_PATH, {"path": path})


_SCHEMA_EXISTS = sa.text("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = :schema)")


def schema_exists(conn: sa.Connection, schema: str) -> bool:
    return bool(conn.execute(_SCHEMA_EXISTS, {"schema": schema}).scalar())


def relations(conn: sa.Connection, schema: str) -> Relations:
    out = Relations({}, set(), [], [], [])
    for row in conn.execute(_RELATIONS, {"schema": schema}).mappings():
        if row["kind"] in ("v", "m"):
            out.views.append(row["name"])
        elif row["kind"] == "S":
            out.sequences.append(row["name"])
        elif row["is_partition"]:
            out.partitions.append(row["name"])
        else:
            estimate = int(row["estimate"])
            if row["kind"] == "p":
                out.partitioned.add(row["name"])
                estimate = int(row["partition_estimate"])
            out.tables[row["name"]] = estimate
    return out


def columns(conn: sa.Connection, schema: str) -> dict[str, list[Column]]:
    out: dict[str, list[Column]] = {}
    for row in conn.execute(_COLUMNS, {"schema": schema}).mappings():
        default = row["default_expr"]
        serial = default is not None and default.startswith("nextval(")
        generated = default if row["generated"] == "s" else None
        domain = None
        type_text = normalize_type(row["type"])
        if row["typtype"] == "d":
            domain, type_text = row["typname"], normalize_type(row["base_type"])
        out.setdefault(row["table_name"], []).append(
            Column(
                name=row["name"],
                type=type_text,
                nullable=bool(row["nullable"]),
                default=None if generated else default,
                autoincrement=bool(row["identity"]) or serial,
                generated=generated,
                domain=domain,
                identity_always=row["identity"] == "a",
                identity_start=_unless_one(row["identity_start"]),
                identity_increment=_unless_one(row["identity_increment"]),
                collation=row["collation"],
            )
        )
    return out


def _unless_one(value: int | None) -> int | None:
    """START 1 and INCREMENT 1 are the defaults: kept as None so plans and hashes stay as before."""
    return None if value in (None, 1) else int(value)


def enums(conn: sa.Connection, schema: str) -> dict[str, EnumType]:
    rows = conn.execute(_ENUMS, {"schema": schema}).mappings()
    return {r["name"]: EnumType(r["name"], tuple(r["labels"]), schema) for r in rows}


def domains(conn: sa.Connection, schema: str) -> dict[str, str]:
    rows = conn.execute(_DOMAINS, {"schema": schema}).mappings()
    return {r["name"]: normalize_type(r["base"]) for r in rows}


def sequences(conn: sa.Connection, schema: str) -> dict[str, Sequence]:
    """Every sequence of the schema with its options and the column that owns it, if any
    (a sequence owned by a table in another schema counts as standalone here)."""
    out: dict[str, Sequence] = {}
    for r in conn.execute(_SEQUENCES, {"schema": schema}).mappings():
        owner = f"{r['owner_table']}.{r['owner_column']}" if r["owner_column"] else None
        out[r["name"]] = Sequence(
            name=r["name"],
            type=r["type"],
            start=int(r["start"]),
            increment=int(r["increment"]),
            min_value=int(r["min_value"]),
            max_value=int(r["max_value"]),
            cycle=bool(r["cycle"]),
            owned_by=owner,
        )
    return out
