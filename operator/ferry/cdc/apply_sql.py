"""SQL of the change applier on a PostgreSQL target (ferry.cdc.apply_pg): pure string builders.

Every statement takes one `text[]` parameter per column and reads the rows with
`unnest($1::text[], $2::text[], …)`, so a whole table's share of a batch is one statement
(set-wise), a one-change fallback uses the very same prepared statement, and every value takes
one path whatever its type: rendered as PostgreSQL input text (`ferry.copy.render.text_value`)
and cast to the column's type.

The cast names the column's type without its modifier (`pg_catalog.varchar`, not
`varchar(10)`) on purpose: an explicit cast to `varchar(10)` or `bit(3)` silently truncates,
while the assignment into the column that follows applies the modifier the way COPY's input
does (a too-long value fails, a numeric is rounded to its scale). The type is named by its
catalog name, schema-qualified (`pg_catalog.bpchar`, `"shop"."mood"`, `pg_catalog._int4`):
the SQL spellings `character` and `bit` would mean `char(1)` and `bit(1)` in a cast.

Every statement names its table with `ONLY`: a change captured on an `INHERITS` parent is a
change of the parent's own row, as the copy read it (`FROM ONLY`), and must not also hit a child
row that has the same key (PostgreSQL's UPDATE, DELETE, TRUNCATE and SELECT include children
unless told otherwise). On a table without children `ONLY` changes nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ferry.copy.sql import quote_ident


def q(name: str) -> str:
    return quote_ident("postgresql", name)


@dataclass(frozen=True)
class TargetTable:
    """A target table as the applier writes it: columns in mapping order, their cast types, and
    the positions of the key columns among them."""

    name: str  # qualified and quoted
    columns: tuple[str, ...]
    types: tuple[str, ...]
    key: tuple[int, ...]


def _rows(arrays: Sequence[str]) -> str:
    """`unnest(…) AS u(…)`: one multi-array unnest pairs the arrays element by element."""
    params = ", ".join(f"${i + 1}::text[]" for i in range(len(arrays)))
    return f"unnest({params}) AS u({', '.join(arrays)})"


def _cast(table: TargetTable, alias: str, position: int) -> str:
    return f"u.{alias}::{table.types[position]}"


def _key_match(table: TargetTable) -> str:
    return " AND ".join(f"t.{q(table.columns[k])} = {_cast(table, f'k{k}', k)}" for k in table.key)


def upsert(table: TargetTable) -> str:
    """Insert or overwrite whole rows: one array per column, in column order."""
    positions = range(len(table.columns))
    cols = ", ".join(q(c) for c in table.columns)
    values = ", ".join(_cast(table, f"c{p}", p) for p in positions)
    # OVERRIDING SYSTEM VALUE: an identity column GENERATED ALWAYS takes the source's value, as
    # the copy's COPY and INSERT do (ferry.copy.pg_target).
    sql = (
        f"INSERT INTO {table.name} AS t ({cols}) OVERRIDING SYSTEM VALUE "
        f"SELECT {values} FROM {_rows([f'c{p}' for p in positions])} "
    )
    conflict = ", ".join(q(table.columns[k]) for k in table.key)
    others = [c for i, c in enumerate(table.columns) if i not in table.key]
    if not others:
        return sql + f"ON CONFLICT ({conflict}) DO NOTHING"
    sets = ", ".join(f"{q(c)} = EXCLUDED.{q(c)}" for c in others)
    return sql + f"ON CONFLICT ({conflict}) DO UPDATE SET {sets}"


def delete(table: TargetTable) -> str:
    """Delete the rows of the given keys, where present: one array per key column."""
    keys = _rows([f"k{k}" for k in table.key])
    return f"DELETE FROM ONLY {table.name} AS t USING {keys} WHERE {_key_match(table)}"


def update(table: TargetTable, columns: Sequence[int]) -> str:
    """Set `columns` (positions; the key columns too, for a moved row) of the rows whose key
    matches: one array per key column (the key before the update), then one per set column."""
    sets = ", ".join(f"{q(table.columns[p])} = {_cast(table, f'c{p}', p)}" for p in columns)
    arrays = [f"k{k}" for k in table.key] + [f"c{p}" for p in columns]
    return f"UPDATE ONLY {table.name} AS t SET {sets} FROM {_rows(arrays)} WHERE {_key_match(table)}"


def exists(table: TargetTable) -> str:
    """Whether a row of the key exists: one array (of one element) per key column."""
    keys = _rows([f"k{k}" for k in table.key])
    match = f"SELECT 1 FROM ONLY {table.name} AS t, {keys} WHERE {_key_match(table)}"
    return f"SELECT EXISTS ({match})"


def truncate(table: TargetTable) -> str:
    return f"TRUNCATE ONLY {table.name}"


# The target tables' columns with their cast types, for a list of qualified names ($1, text[]):
# one row per column, or one row with a NULL column for a table that does not exist.
COLUMN_TYPES = (
    "SELECT u.i, a.attname, quote_ident(n.nspname) || '.' || quote_ident(ty.typname) AS cast_type "
    "FROM unnest($1::text[]) WITH ORDINALITY AS u(name, i) "
    "LEFT JOIN pg_attribute a ON a.attrelid = to_regclass(u.name) AND a.attnum > 0 AND NOT a.attisdropped "
    "LEFT JOIN pg_type ty ON ty.oid = a.atttypid LEFT JOIN pg_namespace n ON n.oid = ty.typnamespace "
    "ORDER BY u.i, a.attnum"
)
# The column sets of the tables' unique indexes that ON CONFLICT can use: valid, not partial,
# not on expressions, not deferrable (their INCLUDE columns left out).
UNIQUE_KEYS = (
    "SELECT u.i, ARRAY(SELECT a.attname FROM pg_attribute a WHERE a.attrelid = x.indrelid "
    "AND a.attnum = ANY ((x.indkey::int2[])[0:x.indnkeyatts - 1])) AS columns "
    "FROM unnest($1::text[]) WITH ORDINALITY AS u(name, i) "
    "JOIN pg_index x ON x.indrelid = to_regclass(u.name) "
    "WHERE x.indisunique AND x.indisvalid AND x.indimmediate AND x.indpred IS NULL AND x.indexprs IS NULL"
)
