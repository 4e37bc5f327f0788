"""SQL text the copy engine sends: identifier quoting, keyset range predicates, batch queries.

Pure string builders, one place per dialect difference, unit-tested without a server.

Key values travel in two forms, chosen by the *source* dialect (see `ferry.copy.keys`):
- PostgreSQL: the value's text form (`key::text`), inlined as a typed literal
  `'42'::bigint`. COPY cannot take bind parameters, and inlining avoids the two extra
  round trips asyncpg would spend on `_mogrify`; the literal is quoted the standard way
  (sessions run with standard_conforming_strings on).
- MySQL/MariaDB: driver values bound as `%s` parameters.
- SQLite: driver values (int, float, str, bytes) bound as `?` parameters.

A batch is a key range `(lo, hi]`; `None` bounds are open. Composite keys compare as rows
on PostgreSQL (`(a, b) > (x, y)`, which a btree index serves); on MySQL and SQLite the
expanded form `a > x OR (a = x AND b > y)`, which every MySQL/MariaDB version optimises
(SQLite has row values since 3.15, but the expanded form needs no version check).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

Dialect = Literal["postgresql", "mysql", "sqlite"]


def quote_ident(dialect: Dialect, name: str) -> str:
    if dialect == "mysql":
        # Every MySQL statement of the engine is formatted by the driver (PyMySQL and asyncmy
        # apply `%` formatting whenever parameters are passed, and the engine always passes them,
        # an empty tuple included): a percent sign in a name must be doubled to stay one.
        return "`" + name.replace("`", "``").replace("%", "%%") + "`"
    return '"' + name.replace('"', '""') + '"'


def qualified(dialect: Dialect, schema: str | None, table: str) -> str:
    if schema and dialect != "sqlite":
        return f"{quote_ident(dialect, schema)}.{quote_ident(dialect, table)}"
    return quote_ident(dialect, table)


def source_relation(dialect: Dialect, schema: str | None, table: str, only: bool) -> str:
    """The table as a source read names it: `ONLY t` on PostgreSQL for a table read without its
    inheritance children (`TableMapping.source_only`), which are copied as tables of their own."""
    name = qualified(dialect, schema, table)
    return f"ONLY {name}" if only and dialect == "postgresql" else name


def pg_literal(text: str) -> str:
    if "\x00" in text:
        raise ValueError("a PostgreSQL text value cannot hold NUL")
    return "'" + text.replace("'", "''") + "'"


@dataclass
class Predicate:
    """A SQL boolean expression with its bind parameters (always empty on PostgreSQL)."""

    sql: str
    params: list[object] = field(default_factory=list)


def _pg_row(columns: Sequence[str], types: Sequence[str], values: Sequence[object]) -> tuple[str, str]:
    cols = ", ".join(quote_ident("postgresql", c) for c in columns)
    vals = ", ".join(f"{pg_literal(str(v))}::{t}" for v, t in zip(values, types, strict=True))
    return f"({cols})", f"({vals})"


def param_mark(dialect: Dialect) -> str:
    return "?" if dialect == "sqlite" else "%s"


def _expanded_compare(
    dialect: Dialect, columns: Sequence[str], values: Sequence[object], last_op: str
) -> Predicate:
    """`(a, b) last_op (x, y)` in the expanded form: a > x OR (a = x AND b > y)."""
    strict = last_op[0]  # '>' or '<'
    mark = param_mark(dialect)
    terms: list[str] = []
    params: list[object] = []
    for i, col in enumerate(columns):
        parts = [f"{quote_ident(dialect, c)} = {mark}" for c in columns[:i]]
        params.extend(values[:i])
        op = last_op if i == len(columns) - 1 else strict
        parts.append(f"{quote_ident(dialect, col)} {op} {mark}")
        params.append(values[i])
        terms.append("(" + " AND ".join(parts) + ")")
    return Predicate("(" + " OR ".join(terms) + ")", params)


def key_range(
    dialect: Dialect,
    columns: Sequence[str],
    types: Sequence[str],
    lo: Sequence[object] | None,
    hi: Sequence[object] | None,
) -> Predicate:
    """Rows whose key is in (lo, hi]; `types` are the source key column types (PostgreSQL casts)."""
    parts: list[Predicate] = []
    for bound, op in ((lo, ">"), (hi, "<=")):
        if bound is None:
            continue
        if dialect == "postgresql":
            left, right = _pg_row(columns, types, bound)
            parts.append(Predicate(f"{left} {op} {right}"))
        else:
            parts.append(_expanded_compare(dialect, columns, bound, op))
    if not parts:
        return Predicate("TRUE")
    return Predicate(" AND ".join(p.sql for p in parts), [x for p in parts for x in p.params])


def and_where(predicate: Predicate, where: str | None) -> Predicate:
    if not where:
        return predicate
    return Predicate(f"{predicate.sql} AND ({where})", predicate.params)


def key_list(dialect: Dialect, columns: Sequence[str], as_text: bool = False) -> str:
    if dialect == "postgresql" and as_text:
        # Aliased: an output column named like the key would make ORDER BY sort the *text*.
        return ", ".join(f"{quote_ident(dialect, c)}::text AS ferry_k{i}" for i, c in enumerate(columns))
    return ", ".join(quote_ident(dialect, c) for c in columns)


def boundary_query(
    dialect: Dialect, table: str, columns: Sequence[str], in_range: Predicate, batch_size: int
) -> Predicate:
    """The key of the `batch_size`-th row after the range start: the batch's upper bound.

    The user's `where` is deliberately not applied: batches are ranges of the key index
    (an index-only scan); the filter applies when the rows are read.
    """
    keys = key_list(dialect, columns, as_text=True)
    order = key_list(dialect, columns)
    sql = f"SELECT {keys} FROM {table} WHERE {in_range.sql} ORDER BY {order} LIMIT 1 OFFSET {batch_size - 1}"
    return Predicate(sql, in_range.params)


def select_rows(dialect: Dialect, table: str, select_list: Sequence[str], where: Predicate) -> Predicate:
    return Predicate(f"SELECT {', '.join(select_list)} FROM {table} WHERE {where.sql}", where.params)


def quantile_query(dialect: Dialect, table: str, columns: Sequence[str], step: int) -> str:
    """Every `step`-th key in key order: the split points of a large table."""
    keys = key_list(dialect, columns)
    outer = key_list(dialect, columns, as_text=True)
    return (
        f"SELECT {outer} FROM (SELECT {keys}, row_number() OVER (ORDER BY {keys}) AS ferry_rn "
        f"FROM {table}) ferry_q WHERE ferry_rn % {int(step)} = 0 ORDER BY ferry_rn"
    )
