"""MySQL/MariaDB rows formatted as PostgreSQL COPY CSV lines by the source server itself.

PyMySQL decodes rows in pure Python: about 5 µs per row of four columns, which capped the
MariaDB → PostgreSQL row path far below pgloader. When no column is transformed and every
column type has a server-side text form that PostgreSQL parses to the same value the row
path would give, the batch query instead returns one binary string per row, already a
COPY line in CSV format, and the worker forwards the lines without touching values.

CSV rather than COPY's text format because it is cheaper on the source, which is the
bottleneck of this path: a text value only needs its double quotes doubled (one REPLACE)
where the text format escapes backslash, newline, carriage return and tab (four). On the
benchmark's orders table (5M rows, three text columns) the server spent 8.7 s formatting
CSV against 15.9 s for text; PostgreSQL parsed the CSV in 10.8 s against 8.5 s.

- Text is always quoted, so an empty string stays distinct from NULL (an empty unquoted
  field). NUL characters are removed, as the row path does (PostgreSQL cannot store them).
- Text in a character set other than UTF-8 is converted to utf8mb4 on the server, as
  PyMySQL would receive it; UTF-8 and ASCII columns skip the conversion (1.4 s per 5M rows
  of three columns).
- Binary is `\\x` + hex (bytea's hex input; CSV has no escapes, so one backslash).
- Literals avoid backslashes (`CHAR(92 USING utf8mb4)`), so the SQL means the same with or
  without NO_BACKSLASH_ESCAPES.
- Zero dates, TINYINT(1) into boolean and BIT(n) are converted as `ferry.copy.mysql_values` says.
- Columns whose text could differ from the row path (a SET's member order, BIT, spatial
  types; a number or a time stored into a text column) keep the row path.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ferry.copy import mysql_values
from ferry.copy.mysql_charsets import is_utf8
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

NUL, BACKSLASH = "CHAR(0 USING utf8mb4)", "CHAR(92 USING utf8mb4)"


def _base(type_text: str) -> str:
    return type_text.lower().split("(")[0].split()[0] if type_text.strip() else ""


def _pg_base(type_text: str) -> str:
    return " ".join(type_text.lower().split("(")[0].split())


def _quoted_text(expr: str, charset: str | None) -> str:
    if not is_utf8(charset):
        expr = f"CONVERT({expr} USING utf8mb4)"
    return f"CONCAT('\"', REPLACE(REPLACE({expr}, {NUL}, ''), '\"', '\"\"'), '\"')"


def column_csv(column: ColumnMapping, charset: str | None = None) -> str | None:
    """The server expression of one column's CSV field (before NULL handling); None: keep the row path.

    `charset` is the column's character set on the source (None: unknown, converted).
    """
    if column.transform is not None:
        return None
    name = quote_ident("mysql", column.source)
    source, target = _base(column.source_type), _pg_base(column.target_type)
    converted = mysql_values.csv_field(column, name)  # zero dates, tinyint(1) booleans, bit(n)
    if converted is not None:
        return converted if target in PG_TEMPORAL_TARGETS | PG_NUMERIC_TARGETS | {"bit"} else None
    if source in INTEGERS or source in DECIMALS:
        # CONCAT_WS converts numbers and times to their text itself, as CONVERT(x, CHAR) would.
        return name if target in PG_NUMERIC_TARGETS else None
    if source in TEMPORAL:
        return name if target in PG_TEMPORAL_TARGETS else None
    if source in TEXTS:
        return _quoted_text(name, charset)
    if source in BINARIES:
        return f"CONCAT({BACKSLASH}, 'x', HEX({name}))" if target == "bytea" else None
    return None


def copy_line_expression(
    columns: Sequence[ColumnMapping], charsets: Mapping[str, str | None] | None = None
) -> str | None:
    """One binary string per row: the row's CSV line without its newline; None when unsupported.

    A NULL becomes an empty unquoted field (CSV's NULL). Nullable columns need the IFNULL:
    CONCAT_WS skips NULL arguments, which would shift the fields after them.
    """
    parts: list[str] = []
    for column in columns:
        field = column_csv(column, (charsets or {}).get(column.source))
        if field is None:
            return None
        parts.append(f"IFNULL({field}, '')" if column.nullable else field)
    return f"CAST(CONCAT_WS(',', {', '.join(parts)}) AS BINARY)" if parts else None
