"""What a MySQL/MariaDB table needs on PostgreSQL beyond its type rules.

The type rules (ferry.schema.typerules) map a type by its text alone. These decisions also
read the column's key, collation, AUTO_INCREMENT, ON UPDATE and indexes:

- BIGINT UNSIGNED AUTO_INCREMENT, the primary key of Laravel and WordPress, becomes a bigint
  identity when its largest value (read at discovery) fits bigint: the rule's numeric(20,0)
  cannot be an identity, so inserts without an id would fail. When it does not fit, the plan
  has an error until the user chooses (castTo numeric(20,0) keeps the values, no identity).
- A case-insensitive collation (`*_ci`) on a column of a primary key or a unique key becomes
  citext: `UNIQUE (email)` must keep refusing 'A@x' next to 'a@x'. citext rather than a
  nondeterministic ICU collation because LIKE, which applications run on such columns, is
  not supported under nondeterministic collations before PostgreSQL 18, and citext needs no
  ICU build. Accent-insensitivity of `*_unicode_ci` is not kept (the plan says so).
- DATE, DATETIME and TIMESTAMP columns can hold zero dates. By default (zeroDates: null) they
  are written as NULL (the plan has a lossy `convert_values` operation that lists them). A NOT
  NULL column is read at planning (ferry.schema.catalog_mysql_dates): when it holds no zero
  date it keeps NOT NULL, and one written after the plan fails the copy as with zeroDates:
  error; when it holds one, or its table is too large to read at every plan, it accepts NULL
  on the target and the plan says why. With zeroDates: error (per column, or copy-wide) the
  column keeps NOT NULL, is not listed, and the copy fails on the batch that holds one
  (`ferry.copy.mysql_values`); a column's own zeroDates: null relaxes it without reading.
- FULLTEXT becomes a GIN index over to_tsvector('simple', …) (the 'simple' configuration
  splits words without language stemming, like MySQL's default parser); a prefix index
  (`KEY (email(191))`) an index on left(col, n) (lower(…) under a case-insensitive
  collation), so long values never exceed a btree entry; SPATIAL is not created.
- TIME is a duration on MySQL (-838:59:59 to 838:59:59); PostgreSQL time holds a time of day.
  Discovery reads whether any value lies outside 00:00:00-23:59:59 (`Column.time_overflow`):
  then the column becomes interval (same fractional digits), else time. The plan says which.
- ON UPDATE CURRENT_TIMESTAMP becomes a BEFORE UPDATE trigger, created after the load
  (ferry.schema.mysql_objects).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ferry.api.migration import ZeroDates
from ferry.db.dialects import sqlalchemy_dialect
from ferry.schema import catalog_mysql_dates, typerules
from ferry.schema.model import Column, Index, Table, Trigger
from ferry.schema.pg_names import pg_truncated

BIGINT_MAX = 2**63 - 1
CITEXT = "citext"
# A btree entry holds at most 2704 bytes; utf8mb4 needs up to 4 bytes a character.
MAX_PREFIX_CHARS = 2704 // 4
_TEXTUAL = re.compile(r"^(?:var)?char\(\d+\)$|^(?:tiny|medium|long)?text$")
_BOUNDED = re.compile(r"^(?:var)?char\((\d+)\)$")
_UNSIGNED_BIGINT = re.compile(r"^bigint(?:\(\d+\))? unsigned$")
_TIME = re.compile(r"^time(\(\d\))?$")

ZERO_DATES_NOTE = "zero dates ('0000-00-00', zero month or day, year 0) are written as NULL"
ZERO_DATES_ERROR_NOTE = "a zero date ('0000-00-00') fails the copy (zeroDates: error)"
ZERO_DATES_NONE_NOTE = (
    "NOT NULL kept: no zero date ('0000-00-00') at planning, and one written later fails the copy"
)
CITEXT_NOTE = (
    "case-insensitive collation on a key column: created as citext so keys stay "
    "case-insensitive (accent-insensitivity is not kept)"
)
TIME_NOTE = "MySQL TIME: every value lies within 00:00:00-23:59:59 (read at planning); created as time"
INTERVAL_NOTE = "MySQL TIME holds durations outside 00:00:00-23:59:59 (read at planning); created as interval"
ON_UPDATE_NOTE = "ON UPDATE CURRENT_TIMESTAMP: kept by a BEFORE UPDATE trigger created after the load"


ZERO_DATE_TYPES = frozenset(("date", "datetime", "timestamp"))


def holds_zero_dates(source_type: str) -> bool:
    """A MySQL column type that can hold a zero date."""
    text = source_type.lower().strip()
    return (text.split("(")[0].split()[0] if text else "") in ZERO_DATE_TYPES


def applies(source_dialect: str, target_dialect: str) -> bool:
    return source_dialect == "mysql" and target_dialect == "postgresql"


def unsigned_bigint_key(column: Column) -> bool:
    return column.autoincrement and bool(_UNSIGNED_BIGINT.match(column.type))


def key_fits_bigint(column: Column) -> bool:
    return column.max_value is None or column.max_value <= BIGINT_MAX


def _key_columns(table: Table) -> set[str]:
    """Columns of the primary key, of unique constraints, of unique indexes and of foreign keys
    (a foreign key needs the type of the key it refers to, citext then)."""
    out = set(table.primary_key)
    for fk in table.foreign_keys:
        out |= set(fk.columns)
    for unique in table.unique_constraints:
        out |= set(unique.columns)
    for ix in table.indexes:
        if ix.unique and not ix.expressions:
            out |= set(ix.columns)
    return out


def case_insensitive_key(table: Table, column: Column) -> bool:
    return (
        bool(column.collation and column.collation.lower().endswith("_ci"))
        and bool(_TEXTUAL.match(column.type))
        and column.name in _key_columns(table)
    )


def target_type(table: Table, column: Column, mapped: str) -> str:
    """The PostgreSQL type of a MySQL column, given what its type rule mapped it to."""
    if unsigned_bigint_key(column) and key_fits_bigint(column):
        return "bigint"
    if case_insensitive_key(table, column):
        return CITEXT
    time = _TIME.match(column.type)
    if time and column.time_overflow:
        return "interval" + (time.group(1) or "")
    return mapped


def time_note(column: Column) -> str | None:
    """How a TIME column was decided from its values; None for other columns."""
    if not _TIME.match(column.type):
        return None
    return INTERVAL_NOTE if column.time_overflow else TIME_NOTE


def zero_dates_fail(column: Column, chosen: ZeroDates | None, copy_wide: ZeroDates) -> bool:
    """Whether a zero date fails the copy (and the column keeps NOT NULL): zeroDates: error for
    the column or copy-wide, or a NOT NULL column that held none when planned
    (ferry.schema.catalog_mysql_dates), unless the column's own zeroDates says null."""
    if chosen is not None:
        return chosen == ZeroDates.ERROR
    return copy_wide == ZeroDates.ERROR or column.zero_dates == catalog_mysql_dates.NONE


def relaxed_reason(column: Column) -> str:
    """Why a NOT NULL date column accepts NULL on the target (shown in the plan)."""
    if column.zero_dates == catalog_mysql_dates.FOUND:
        return "NOT NULL not kept: it holds zero dates"
    if column.zero_dates == catalog_mysql_dates.NOT_READ:
        return f"NOT NULL not kept: not read, the table has over {catalog_mysql_dates.MAX_ROWS:,} rows"
    return "NOT NULL not kept: zeroDates null"


def relaxes_not_null(column: Column, zero_dates_error: bool = False) -> bool:
    """A NOT NULL column whose zero dates are written as NULL accepts NULL on the target; with
    zeroDates: error a zero date stops the copy instead, so NOT NULL is kept."""
    return not column.nullable and holds_zero_dates(column.type) and not zero_dates_error


def zero_dates_error_note(note: str, column: Column | None = None) -> str:
    """A type rule's note, with what zeroDates: error, or a NOT NULL column that held no zero
    date at planning, does instead of writing NULL."""
    if column is not None and column.zero_dates == catalog_mysql_dates.NONE:
        return note.replace(typerules.ZERO_DATES_NOTE, ZERO_DATES_NONE_NOTE)
    return note.replace(typerules.ZERO_DATES_NOTE, ZERO_DATES_ERROR_NOTE)


def _quote(name: str) -> str:
    """Quoted only where needed, as PostgreSQL prints expressions back (pg_get_indexdef)."""
    return str(sqlalchemy_dialect("postgresql").identifier_preparer.quote(name))


def translate_index(
    table: Table, ix: Index, rename: Mapping[str, str], warnings: list[str]
) -> tuple[tuple[str, ...], str | None, bool] | None:
    """(columns or expressions, access method, expressions?) of the PostgreSQL index for a
    MySQL FULLTEXT, SPATIAL or prefix index; None: created as it is (or not at all, with a
    warning). Expressions are spelt as PostgreSQL prints them back, so a re-plan converges."""
    if ix.method == "spatial":
        warnings.append(f"{table.name}: SPATIAL index {ix.name} not created (spatial types are not copied)")
        return None
    if not set(ix.columns) <= set(rename):
        return None
    if ix.method == "fulltext":
        parts = [f"COALESCE({_quote(rename[c])}, ''::text)" for c in ix.columns]
        document = parts[0]
        for part in parts[1:]:  # PostgreSQL prints a left operand that is an operator in parentheses
            document = f"({document} || ' '::text) || {part}"
        return (f"to_tsvector('simple'::regconfig, {document})",), "gin", True
    if not any(ix.lengths):
        return None
    if not ix.unique and all(_fits_btree(table.column(c)) for c in ix.columns):
        # Any value of these columns fits a btree entry: index them whole, which serves the
        # `WHERE col = ?` lookups the prefix index was for (an index on left() would not).
        return tuple(rename[c] for c in ix.columns), None, False
    parts = []
    for name, length in zip(ix.columns, ix.lengths, strict=True):
        column = table.column(name)
        if length is None or column is None:
            parts.append(_quote(rename[name]))
            continue
        if length > MAX_PREFIX_CHARS:
            warnings.append(
                f"{table.name}: index {ix.name} not created: its prefix of {length} characters "
                f"may exceed a PostgreSQL btree entry"
            )
            return None
        # A unique prefix stays unique on the prefix only, as on the source; under a
        # case-insensitive collation, on its lower case.
        prefix = f'"left"({_quote(rename[name])}::text, {length})'
        ci = column.collation is not None and column.collation.lower().endswith("_ci")
        parts.append(f"lower({prefix})" if ci and ix.unique else prefix)
    return tuple(parts), None, True


def _fits_btree(column: Column | None) -> bool:
    match = _BOUNDED.match(column.type) if column else None
    return bool(match) and int(match.group(1)) <= MAX_PREFIX_CHARS  # type: ignore[union-attr]


def on_update_triggers(table: Table, target_table: str, rename: Mapping[str, str]) -> tuple[Trigger, ...]:
    """One trigger per selected ON UPDATE CURRENT_TIMESTAMP column, named after it."""
    return tuple(
        Trigger(pg_truncated(f"{target_table}_{rename[c.name]}_on_update"), rename[c.name])
        for c in table.columns
        if c.on_update and c.name in rename
    )
