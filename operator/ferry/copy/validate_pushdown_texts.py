"""The text each server spells for a column, MySQL/MariaDB → PostgreSQL (ferry.copy.validate_pushdown_mysql).

Each row becomes a line of fields separated by FIELD_SEPARATOR (U+0001 then `,`), and a key
range's lines are joined with LINE_SEPARATOR (U+0001 then `;`: ferry.copy.validate_pushdown_ordered).
A text's own U+0001 is doubled (ESCAPE), a NULL is NULL_FIELD (U+0001 then `N`), and numbers,
dates and hex are bare (their texts hold no U+0001). Read from the left, a U+0001 is followed by a
second one (a text's own), `,`, `;` or `N`, so a line, and a range's text, is decodable in one way
only: ('ab', 'c') and ('a', 'bc') differ, and a NULL differs from every value, the empty string
included. Bare numbers and dates are converted to text by `CONCAT_WS` itself, and each field is
computed once. The escape is a control character rather than `"` (the copy's CSV quote) because
texts hardly ever hold one: doubling the `"` of every JSON document made both servers build a new
string per value.

Measured on 1M rows of the benchmark's orders table in 50 ranges of 20,000 keys, each range digested
in every form in turn, server CPU seconds, the least of three rounds (single timings here vary by
a fifth): MariaDB 1.56 s as below, 1.67 s with `"` as the quote, 1.99 s in the copy's form (NUL
`REPLACE`, zero-date test), 1.38 s without trimming the timestamp's zeros; PostgreSQL 1.86 s as
below, 1.96 s with `"`, 2.20 s with `to_char(…, 'YYYY-MM-DD HH24:MI:SS.US')` for the timestamp
(those with texts between two quotes and a NULL as an empty field).
A whole second printed without its fraction (`LEFT(x, 19)`) instead of trimmed twice: MariaDB
1.32 s against 1.42 s (the same rows read from a table of 15M, each range first read by a
query of its own so no form pays for the disk). Texts escaped but not between two quotes, a
NULL as NULL_FIELD and U+0001 in both separators (the form above): MariaDB 1.22 s against 1.33 s,
PostgreSQL 1.40 s against 1.53 s (each text had cost two more concatenations).

The text of each pushed-down type, source (MySQL, session time zone +00:00) | target
(PostgreSQL, TimeZone UTC, DateStyle ISO: ferry.copy.endpoints):
- integers `x` | `x::text` (into smallint/integer/bigint or numeric(p,0));
- decimals of one scale `x` | `x::text` (both print every digit of the scale);
- integers into boolean `t`/`f` as the copy converts them (non-zero is true);
- text, varchar, char and enum as UTF-8 bytes (converted unless the column's character set is
  UTF-8 already: ferry.copy.mysql_charsets), escaped | `x::text`, escaped; into char(n), trailing
  spaces cut on both sides (bpchar's text drops its padding);
- dates `x` | `x::text`;
- datetime(n) and timestamp(n) into timestamp or timestamptz of any precision: the source's text
  without the fraction's trailing zeros (a whole second without its `.`) | `x::text`, which prints
  a timestamp so (timestamptz with `+00`, which the source's text gets appended). Each side
  prints every digit its value holds, so a target holding digits the source never had differs.
  (`to_char` with a fixed number of digits, the form before, cost PostgreSQL more than the
  trimming costs MariaDB: above);
- binary as its hex, `HEX(x)` | `upper(encode(x, 'hex'))`;
- JSON (MySQL JSON, MariaDB's LONGTEXT JSON, or text) into jsonb: the source's text, escaped |
  `x::text`, escaped (jsonb's canonical text; when the source spells a document otherwise,
  ferry.copy.validate_pushdown_mysql renders it in Python).

Two forms of the source's text (`as_copied`):
- As stored (`as_copied=False`): the values as the source holds them. The copy changes two kinds
  of value on the way: it drops NUL characters from texts (PostgreSQL's text cannot hold them)
  and writes zero dates as NULL (or refuses them, with zeroDates: error). Data that hold neither,
  nearly all, spell the same in both forms, and this one is cheaper (above: MariaDB runs the
  NUL `REPLACE` character by character on a UTF-8 text).
- As copied (`as_copied=True`): NUL characters removed, zero dates NULL, or with zeroDates: error
  a text no target date has (ZERO_DATE_TEXT). The digest asks for it when the stored form's
  differs (ferry.copy.validate_pushdown_mysql).
The target's text is the same in both.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ferry.copy.mysql_charsets import is_utf8
from ferry.copy.sql import quote_ident
from ferry.schema.mapping import ColumnMapping
from ferry.schema.mysql_postgresql import holds_zero_dates

ESCAPE = b"\x01"  # doubled inside a text (module docstring): X'01' on MySQL, chr(1) on PostgreSQL
FIELD_SEPARATOR = ESCAPE + b","
LINE_SEPARATOR = ESCAPE + b";"
NULL_FIELD = ESCAPE + b"N"
ZERO_DATE_TEXT = "zero date"  # zeroDates: error: a zero date the copy refused; no target date reads so

_INT = re.compile(r"(?:tinyint|smallint|mediumint|int|integer|bigint)(?:\(\d+\))?(?: unsigned)?")
_BOOL_SOURCE = re.compile(r"tinyint\(1\)(?: unsigned)?|bool|boolean")
_DECIMAL = re.compile(r"(?:decimal|numeric|dec|fixed)(?:\((\d+)(?:,\s*(\d+))?\))?(?: unsigned)?")
_PG_DECIMAL = re.compile(r"(?:numeric|decimal)\((\d+)(?:,\s*(\d+))?\)")
_PG_SCALE0 = re.compile(r"(?:numeric|decimal)(?:\(\d+(?:,\s*0)?\))?")
_TEXT = re.compile(r"(?:var)?char\(\d+\)|(?:tiny|medium|long)?text")
_ENUM = re.compile(r"enum\(.*\)", re.DOTALL)
_DATETIME = re.compile(r"(?:datetime|timestamp)(?:\((\d)\))?")
_BINARY = re.compile(r"(?:tiny|medium|long)?blob|(?:var)?binary\(\d+\)")

PG_INTEGERS = frozenset(("smallint", "integer", "bigint", "int2", "int4", "int8"))
PG_TEXTS = frozenset(("text", "varchar", "character varying"))
PG_CHARS = frozenset(("char", "character", "bpchar"))
PG_BOOLEANS = frozenset(("boolean", "bool"))
PG_TIMESTAMPS = frozenset(("timestamp", "timestamp without time zone"))
PG_TIMESTAMPTZ = frozenset(("timestamptz", "timestamp with time zone"))
# Built-in target types an enum label is not written into as text: any other target of an enum
# (its own enum type, a domain over text) prints the label back with ::text.
PG_NOT_ENUM = frozenset(
    (
        *(*PG_INTEGERS, *PG_BOOLEANS, *PG_TIMESTAMPS, *PG_TIMESTAMPTZ, "numeric", "decimal", "real"),
        *("double precision", "float4", "float8", "date", "time", "timetz", "time without time zone"),
        *("time with time zone", "interval", "json", "jsonb", "bytea", "uuid", "inet", "cidr", "bit"),
        *("varbit", "bit varying", "money", "xml"),
    )
)

_NUL = "CHAR(0 USING utf8mb4)"


@dataclass(frozen=True)
class FieldText:
    """One column's text on each side; NULL (in SQL) when the value is NULL. `pg_value`: the
    target column itself where PostgreSQL's `::text` of it is `postgresql` (pg_row)."""

    mysql: str
    postgresql: str
    pg_value: str | None = None


def _pg_base(type_text: str) -> str:
    return " ".join(type_text.lower().split("(")[0].split())


def _norm(type_text: str) -> str:
    return " ".join(type_text.lower().split())


def _zero_dates(column: ColumnMapping, name: str, formatted: str, as_copied: bool) -> str:
    """The copy's treatment of zero dates (ferry.copy.mysql_values): NULL, or refused."""
    if not as_copied or not holds_zero_dates(column.source_type):
        return formatted
    zero = f"YEAR({name}) = 0 OR MONTH({name}) = 0 OR DAYOFMONTH({name}) = 0"
    instead = f"'{ZERO_DATE_TEXT}'" if column.zero_dates_error else "NULL"
    return f"IF({zero}, {instead}, {formatted})"


def _binary_text(expr: str, utf8: bool, as_copied: bool) -> str:
    """Text as its UTF-8 bytes (converted unless `utf8`), NUL removed as the copy removes it when
    `as_copied`; binary, so columns of different collations concatenate without a conflict."""
    text = expr if utf8 else f"CONVERT({expr} USING utf8mb4)"
    return f"CAST(REPLACE({text}, {_NUL}, '') AS BINARY)" if as_copied else f"CAST({text} AS BINARY)"


def mysql_bytes(data: bytes) -> str:
    """Bytes as a MySQL hexadecimal literal (a binary string)."""
    return f"X'{data.hex().upper()}'"


def pg_bytes(data: bytes) -> str:
    """ASCII bytes as a PostgreSQL text of constants, folded into one when the query is planned
    (no control character in the statement's text)."""
    return " || ".join(f"chr({b})" if b < 32 else f"'{chr(b)}'" for b in data)


def _escaped(expr: str, utf8: bool, as_copied: bool) -> str:
    """A source text as a field: its own ESCAPEs doubled."""
    return f"REPLACE({_binary_text(expr, utf8, as_copied)}, X'01', X'0101')"


def _pg_escaped(expr: str) -> str:
    return f"replace({expr}, chr(1), repeat(chr(1), 2))"  # constants once planned


def escaped_bytes(text: bytes) -> bytes:
    """A text as the servers escape it, for a field Ferry renders itself."""
    return text.replace(ESCAPE, ESCAPE * 2)


def _timestamp(column: ColumnMapping, m: str, p: str, with_zone: bool, as_copied: bool) -> FieldText:
    """Both sides print the value's digits without the fraction's trailing zeros (module docstring)."""
    match = _DATETIME.fullmatch(_norm(column.source_type))
    digits = int(match.group(1) or 0) if match else 0
    # With no fraction the server prints none; with one, always n digits, so the zeros trimmed
    # are the fraction's own. A whole second is cut before its `.`: cheaper than a second TRIM
    # for the `.` left alone, and whole seconds are what most datetime(n) columns hold.
    source = f"IF(MICROSECOND({m}) = 0, LEFT({m}, 19), TRIM(TRAILING '0' FROM {m}))" if digits else m
    if with_zone:  # PostgreSQL prints a timestamptz in UTC with its offset, `+00`
        source = f"CONCAT({source}, '+00')"
    return FieldText(_zero_dates(column, m, source, as_copied), f"{p}::text", p)


def _number(source: str, target: str) -> bool:
    if _INT.fullmatch(source):
        return target in PG_INTEGERS or bool(_PG_SCALE0.fullmatch(target))
    decimal = _DECIMAL.fullmatch(source)
    pg_decimal = _PG_DECIMAL.fullmatch(target)
    if decimal is None or pg_decimal is None:
        return False
    return int(decimal.group(2) or 0) == int(pg_decimal.group(2) or 0)


def field_text(column: ColumnMapping, charset: str | None = None, as_copied: bool = True) -> FieldText | None:
    """The column's text on both sides, or None when it is not pushed down (module docstring).
    `charset`: the source column's character set (None: not known, so converted)."""
    if column.transform is not None:
        return None
    m, p = quote_ident("mysql", column.source), quote_ident("postgresql", column.target)
    source, target, pg_base = (
        _norm(column.source_type),
        _norm(column.target_type),
        _pg_base(column.target_type),
    )
    if pg_base in PG_BOOLEANS:
        if not (_BOOL_SOURCE.fullmatch(source) or _INT.fullmatch(source)):
            return None
        return FieldText(
            f"CASE WHEN {m} <> 0 THEN 't' WHEN {m} = 0 THEN 'f' END",
            f"CASE WHEN {p} THEN 't' WHEN NOT {p} THEN 'f' END",
        )
    if _number(source, target):
        return FieldText(m, f"{p}::text", p)  # CONCAT_WS prints numbers as CAST(x AS CHAR) would
    enum = bool(_ENUM.fullmatch(source))
    if _TEXT.fullmatch(source) or enum:
        if pg_base not in PG_TEXTS | PG_CHARS and (not enum or pg_base in PG_NOT_ENUM):
            return None
        utf8 = is_utf8(charset)
        if pg_base in PG_CHARS:  # bpchar's text drops its padding; MySQL's CHAR drops it on read
            return FieldText(_escaped(f"RTRIM({m})", utf8, as_copied), _pg_escaped(f"{p}::text"))
        return FieldText(_escaped(m, utf8, as_copied), _pg_escaped(f"{p}::text"))
    if source == "date" and pg_base == "date":
        return FieldText(_zero_dates(column, m, m, as_copied), f"{p}::text", p)
    if _DATETIME.fullmatch(source) and pg_base in PG_TIMESTAMPS | PG_TIMESTAMPTZ:
        return _timestamp(column, m, p, pg_base in PG_TIMESTAMPTZ, as_copied)
    if _BINARY.fullmatch(source) and pg_base == "bytea":
        return FieldText(f"HEX({m})", f"upper(encode({p}, 'hex'))")
    return None


def json_text(column: ColumnMapping, charset: str | None = None, as_copied: bool = True) -> FieldText | None:
    """A JSON column's source text and jsonb's text, or None unless JSON or text into jsonb."""
    source = _norm(column.source_type)
    if column.transform is not None or _pg_base(column.target_type) != "jsonb":
        return None
    if source != "json" and not _TEXT.fullmatch(source):
        return None
    m, p = quote_ident("mysql", column.source), quote_ident("postgresql", column.target)
    return FieldText(_escaped(m, is_utf8(charset), as_copied), _pg_escaped(f"{p}::text"))


def mysql_row(fields: Sequence[str]) -> str:
    """The row's line. CONCAT_WS skips a NULL argument, so each field is IFNULL'd: a NULL is
    NULL_FIELD, as on the target (pg_row); a NOT NULL column pays for it too, in exchange for
    a line that stays aligned whatever the source's constraints say."""
    null = mysql_bytes(NULL_FIELD)
    return (
        f"CONCAT_WS({mysql_bytes(FIELD_SEPARATOR)}, "
        + ", ".join(f"IFNULL({f}, {null})" for f in fields)
        + ")"
    )


def pg_row(texts: Sequence[FieldText], nullable: Sequence[bool]) -> str:
    """The row's line on the target. A column that cannot be NULL (`nullable`: the target's, as
    the plan made it) and has a `pg_value` goes to `concat_ws` as it is: concat_ws prints it with
    its type's output function, as `::text` does, without copying the text again; every other
    field is coalesce'd to NULL_FIELD. A NULL in a column that should hold none is skipped by
    concat_ws, so its line has a field less and differs from the source's. Without such a
    column, `||` (cheaper than concat_ws for texts). Measured on the benchmark's orders table
    (1M rows in 50 ranges, server CPU, the least of three rounds): 1.29 s with its three NOT NULL
    numbers bare against 1.34 s with `||`; 1.35 s with only the key bare, 1.39 s with none."""
    null = pg_bytes(NULL_FIELD)
    bare = [t.pg_value if not n else None for t, n in zip(texts, nullable, strict=True)]
    fields = [b or f"coalesce({t.postgresql}, {null})" for t, b in zip(texts, bare, strict=True)]
    if any(bare):
        return f"concat_ws({pg_bytes(FIELD_SEPARATOR)}, {', '.join(fields)})"
    return f" || ({pg_bytes(FIELD_SEPARATOR)}) || ".join(fields)
