"""MySQL/MariaDB rows formatted as PostgreSQL COPY text by the source server itself.

PyMySQL decodes rows in pure Python: about 5 µs per row of four columns, which capped the
MariaDB → PostgreSQL row path far below pgloader. When no column is transformed and every
column type has a server-side text form that PostgreSQL parses to the same value the row
path would give, the batch query instead returns one binary string per row, already a COPY
text line: NULL as `\\N`, backslash, newline, carriage return and tab escaped, NUL removed,
binary as `\\x` + hex. The worker joins lines and forwards them (no per-value Python work).

Literals avoid backslashes (`CHAR(92 USING utf8mb4)`), so the SQL means the same with or
without NO_BACKSLASH_ESCAPES; text is converted to utf8mb4 on the server, as PyMySQL would
receive it. Columns whose text could differ from the row path (a SET's member order, BIT,
spatial types; a number or a time stored into a text column) keep the row path.
"""

from __future__ import annotations

from collections.abc import Sequence

from ferry.copy.sql import quote_ident
from ferry.schema.mapping import ColumnMapping

INTEGERS = frozenset(
    ("tinyint", "smallint", "mediumint", "int", "integer", "bigint", "year", "bool", "boolean")
)
DECIMALS = frozenset(("decimal", "numeric", "dec", "fixed", "float", "double", "real"))
TEMPORAL = frozenset(("date", "datetime", "timestamp", "time"))
TEXTS = frozenset(
    ("char", "varchar", "tinytext", "text", "mediumtext", "longtext", "json", "enum", "nchar", "nvarchar")
)
BINARIES = frozenset(("binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob"))

# Target (PostgreSQL) types that parse the server's text of a number or a date/time to the
# same value as the row path's Python text (e.g. '1e16' and '1e+16' are one double).
PG_NUMERIC_TARGETS = frozenset(
    ("smallint", "integer", "bigint", "int2", "int4", "int8", "numeric", "decimal", "real",
     "double precision", "float4", "float8", "boolean", "bool")
)  # fmt: skip
PG_TEMPORAL_TARGETS = frozenset(
    ("date", "time", "timetz", "timestamp", "timestamptz", "interval", "time without time zone",
     "time with time zone", "timestamp without time zone", "timestamp with time zone")
)  # fmt: skip


def _char(code: int) -> str:
    return f"CHAR({code} USING utf8mb4)"


BACKSLASH, TAB = _char(92), _char(9)
NULL_TEXT = f"CONCAT({BACKSLASH}, 'N')"


def _base(type_text: str) -> str:
    return type_text.lower().split("(")[0].split()[0] if type_text.strip() else ""


def _pg_base(type_text: str) -> str:
    return " ".join(type_text.lower().split("(")[0].split())


def _escaped_text(expr: str) -> str:
    out = f"REPLACE(CONVERT({expr} USING utf8mb4), {_char(0)}, '')"
    out = f"REPLACE({out}, {BACKSLASH}, CONCAT({BACKSLASH}, {BACKSLASH}))"
    for code, letter in ((10, "n"), (13, "r"), (9, "t")):
        out = f"REPLACE({out}, {_char(code)}, CONCAT({BACKSLASH}, '{letter}'))"
    return out


def column_text(column: ColumnMapping) -> str | None:
    """The server expression of one column's COPY text (before NULL handling); None: keep the row path."""
    if column.transform is not None:
        return None
    name = quote_ident("mysql", column.source)
    source, target = _base(column.source_type), _pg_base(column.target_type)
    if source in INTEGERS or source in DECIMALS:
        return f"CONVERT({name}, CHAR)" if target in PG_NUMERIC_TARGETS else None
    if source in TEMPORAL:
        return f"CONVERT({name}, CHAR)" if target in PG_TEMPORAL_TARGETS else None
    if source in TEXTS:
        return _escaped_text(name)
    if source in BINARIES:
        return f"CONCAT({BACKSLASH}, {BACKSLASH}, 'x', LOWER(HEX({name})))" if target == "bytea" else None
    return None


def copy_line_expression(columns: Sequence[ColumnMapping]) -> str | None:
    """One binary string per row: the row's COPY text line without its newline; None when unsupported."""
    parts: list[str] = []
    for column in columns:
        text = column_text(column)
        if text is None:
            return None
        parts.append(f"IFNULL({text}, {NULL_TEXT})")
    return f"CAST(CONCAT_WS({TAB}, {', '.join(parts)}) AS BINARY)" if parts else None
