"""What is read and written for one table: select list, target columns, transforms, fast path.

Shared by the copy and by validation, so the checksum of the source side reads exactly
the values the copy read and applies exactly the same transforms.

Source select list:
- PostgreSQL to PostgreSQL, row path: every column as `col::text` except bytea. The
  target parses PostgreSQL's own text forms, so arrays, ranges, intervals, enums or
  domains need no client-side codec; transforms see text (an integer hashes as its
  digits, like a MySQL integer does).
- PostgreSQL to another engine: types the drivers share (numbers, text, bytea, temporal,
  uuid, json) as they are, anything else as text.
- MySQL/MariaDB and SQLite: the driver's values (SQLite's converted into a PostgreSQL
  target's types by `ferry.copy.sqlite_values`).

Pass-through (PostgreSQL to PostgreSQL, no transform, identical type text on both sides):
binary COPY when every type is a built-in scalar whose binary form carries no type OID
(arrays and user types do, and OIDs differ across databases); otherwise text COPY, which
is still streamed without decoding rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from ferry.copy import mysql_values, sqlite_values
from ferry.copy.mysql_values import ValueFix
from ferry.copy.sql import Dialect, quote_ident
from ferry.copy.transforms import ValueFn, compile_transform
from ferry.db.credentials import SecretSource
from ferry.schema.mapping import TableMapping

PassThrough = Literal["binary", "text"]

# Built-in scalar types whose binary COPY form is portable between PostgreSQL databases.
BINARY_SAFE = frozenset(
    (
        *("smallint", "integer", "bigint", "int2", "int4", "int8", "numeric", "decimal", "real"),
        *("double precision", "float4", "float8", "boolean", "bool", "text", "varchar", "character varying"),
        *("char", "character", "bpchar", "name", "bytea", "date", "time", "timetz", "time without time zone"),
        *("time with time zone", "timestamp", "timestamptz", "timestamp without time zone"),
        *("timestamp with time zone", "interval", "uuid", "json", "jsonb", "inet", "cidr", "macaddr"),
        *("money", "oid", "xml"),
    )
)

# Types the PostgreSQL and MySQL drivers both turn into plain Python values.
DRIVER_SCALARS = frozenset(
    (
        *("smallint", "integer", "bigint", "int2", "int4", "int8", "numeric", "decimal", "real"),
        *("double precision", "float4", "float8", "boolean", "bool", "text", "varchar", "character varying"),
        *("char", "character", "bpchar", "bytea", "date", "time", "timestamp", "timestamptz"),
        *("timestamp without time zone", "timestamp with time zone", "uuid", "json", "jsonb"),
    )
)


def base_type(type_text: str) -> str:
    return type_text.lower().split("(")[0].strip()


def _same_type(a: str, b: str) -> bool:
    return a.lower().replace(" ", "") == b.lower().replace(" ", "")


@dataclass(frozen=True)
class Projection:
    mapping: TableMapping
    source_select: tuple[str, ...]
    target_columns: tuple[str, ...]
    transforms: tuple[ValueFn | None, ...]
    passthrough: PassThrough | None
    # Conversions of source values the target has no input for (MySQL zero dates, tinyint
    # booleans, bit strings: ferry.copy.mysql_values; SQLite's dynamic types:
    # ferry.copy.sqlite_values). Unlike transforms they keep MySQL's CSV path, which converts in SQL.
    fixes: tuple[ValueFix | None, ...] = ()

    @property
    def transformed(self) -> bool:
        return any(t is not None for t in self.transforms)

    def apply_fixes(self, row: Sequence[object]) -> list[object]:
        if not self.fixes:
            return list(row)
        return [v if f is None or v is None else f(v) for v, f in zip(row, self.fixes, strict=True)]

    def apply(self, row: tuple[object, ...] | list[object]) -> list[object]:
        row = self.apply_fixes(row)
        if not self.transformed:
            return list(row)
        return [v if t is None else t(v) for v, t in zip(row, self.transforms, strict=True)]


def build_projection(
    mapping: TableMapping, source: Dialect, target: Dialect, secrets: SecretSource | None
) -> Projection:
    transforms: list[ValueFn | None] = []
    for column in mapping.columns:
        if column.transform is None:
            transforms.append(None)
            continue
        transforms.append(compile_transform(column.transform, secrets, column.target_type))
    passthrough: PassThrough | None = None
    if (
        source == target == "postgresql"
        and all(t is None for t in transforms)
        and all(_same_type(c.source_type, c.target_type) for c in mapping.columns)
    ):
        safe = all(base_type(c.source_type) in BINARY_SAFE for c in mapping.columns)
        passthrough = "binary" if safe else "text"
    select: list[str] = []
    for column in mapping.columns:
        name = quote_ident(source, column.source)
        if source == "postgresql" and passthrough is None:
            keep = (
                base_type(column.source_type) == "bytea"
                if target == "postgresql"
                else (base_type(column.source_type) in DRIVER_SCALARS)
            )
            select.append(name if keep else f"{name}::text")
        else:
            select.append(name)
    fixes: tuple[ValueFix | None, ...] = ()
    if source == "mysql" and target == "postgresql":
        fixes = tuple(mysql_values.value_fix(c) for c in mapping.columns)
    elif source == "sqlite" and target in ("postgresql", "mysql"):
        fixes = tuple(sqlite_values.value_fix(c) for c in mapping.columns)
    return Projection(
        fixes=fixes if any(fixes) else (),
        mapping=mapping,
        source_select=tuple(select),
        target_columns=tuple(c.target for c in mapping.columns),
        transforms=tuple(transforms),
        passthrough=passthrough,
    )
