"""Checksums computed by the servers, MySQL/MariaDB → PostgreSQL: the SQL both sides run.

The canonical comparison (ferry.copy.validate) spends most of its time turning values into
text in Python. For the columns whose text both servers can spell identically in SQL, each
server digests its own rows instead, as PostgreSQL → PostgreSQL does (validate_pushdown):

- Each row becomes a line of CSV fields, as the copy's server-side lines are
  (ferry.copy.mysql_copy_csv): a NULL is an empty field, a text is always quoted with its
  double quotes doubled, and numbers, dates and hex are bare (their texts hold no comma or
  quote; none is empty). So the line is decodable in one way only: ('ab', 'c') and ('a', 'bc')
  differ, and a NULL differs from every value, the empty string (`""`) and bytes (`x`)
  included. Bare numbers and dates are converted to text by `CONCAT_WS` itself, and each field
  is computed once: on 1M rows of the benchmark's orders table this took MariaDB 3.6-4.2 s and
  PostgreSQL 1.8-2.4 s, against 6.0 s and 2.8 s for the length-prefixed fields it replaced
  (`<length>:<text>`, each text computed twice), measured beside a CI run.
- The row's digest is the first 60 bits of the MD5 of its line, as an integer; a range's is
  `count(*)` and the exact sum of its rows' digests (MySQL's DECIMAL, PostgreSQL's numeric).
  Equal sums of a multiset of 60-bit hashes by chance: about one in 2**60 per differing range.
  A key range of a one-key table is first digested as one MD5 of its lines in key order on each
  server (ferry.copy.validate_pushdown_ordered: less work), and per row only when that declines.
- The text of each pushed-down type, source (MySQL, session time zone +00:00) | target
  (PostgreSQL, TimeZone UTC, DateStyle ISO: ferry.copy.endpoints):
  integers `x` | `x::text` (into smallint/integer/bigint or numeric(p,0));
  decimals of one scale `x` | `x::text` (both print every digit of the scale);
  integers into boolean `t`/`f` as the copy converts them (non-zero is true);
  text, varchar, char and enum as UTF-8 bytes (converted unless the column's character set is
  UTF-8 already: ferry.copy.mysql_charsets), NUL characters removed as the copy removes them,
  quoted | `x::text`, quoted; into char(n), trailing spaces cut on both sides (bpchar's
  text drops its padding); dates `x` | `x::text`; datetime(n) and timestamp(n) into a
  timestamp of at most n digits, n = 0, 3 or 6: `x` (the server prints n digits) |
  `to_char(…)` with n digits; other precisions `DATE_FORMAT(…'%f')` | `to_char(…'US')`;
  zero dates as the copy wrote them (NULL), or, with zeroDates: error, a text no target date
  has; binary `x` and its hex, `CONCAT('x', HEX(x))` | `'x' || upper(encode(x, 'hex'))`.
- JSON (MySQL JSON, MariaDB's LONGTEXT JSON, or text) into jsonb, untransformed: the source's
  text, NUL removed as the copy removes it | `x::text`, jsonb's canonical text. Equal when the
  source already spells each document as jsonb prints it (text written from a jsonb does;
  MySQL's JSON type prints with the same separators and key order, not numbers like 1e300;
  MariaDB keeps the text as written). When the digests differ, the source's rows are read once
  more, its pushed-down fields concatenated by the server as above and its JSON rendered in
  Python as jsonb prints it (ferry.copy.jsonb_text), and their digest compared with the
  target's: no Python and no key order on the target; the next ranges of that table are
  rendered at once. Each row's text holds its key and its JSON together, so documents swapped
  between rows differ. A document the rendering declines (NaN, `\\u0000`, huge exponents, not
  JSON) leaves the range to the canonical comparison.
- Not pushed down (compared in Python, ferry.copy.canonical): floats and doubles (each side
  prints its own shortest digits), JSON into json or text, TIME (decided from the data: time
  or interval), YEAR, BIT, SET, UUID, inet, transformed and encrypted columns, and any pair
  of types not named above.

A spelling that differs although the values are equal only costs time: the range's digests
differ and it is compared again the canonical way. What must never happen, two different
values spelled alike, is what the length prefix and the per-type texts rule out.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass

from ferry.copy import validate_pushdown_ordered as ordered
from ferry.copy.endpoints import Endpoint
from ferry.copy.jsonb_text import jsonb_bytes
from ferry.copy.mysql_charsets import charsets_from, charsets_query, is_utf8
from ferry.copy.runner import CopyJob
from ferry.copy.sql import Predicate, quote_ident, source_relation
from ferry.copy.streams import first_row, stream_rows
from ferry.schema.mapping import ColumnMapping, TableMapping
from ferry.schema.mysql_postgresql import holds_zero_dates

ZERO_DATE_TEXT = "zero date"  # zeroDates: error: a zero date the copy refused; no target date reads so
HASH_HEX = 15  # 60 bits of the MD5: a sum of 2**32 rows stays far inside both servers' exact types

_INT = re.compile(r"(?:tinyint|smallint|mediumint|int|integer|bigint)(?:\(\d+\))?(?: unsigned)?")
_BOOL_SOURCE = re.compile(r"tinyint\(1\)(?: unsigned)?|bool|boolean")
_DECIMAL = re.compile(r"(?:decimal|numeric|dec|fixed)(?:\((\d+)(?:,\s*(\d+))?\))?(?: unsigned)?")
_PG_DECIMAL = re.compile(r"(?:numeric|decimal)\((\d+)(?:,\s*(\d+))?\)")
_PG_SCALE0 = re.compile(r"(?:numeric|decimal)(?:\(\d+(?:,\s*0)?\))?")
_TEXT = re.compile(r"(?:var)?char\(\d+\)|(?:tiny|medium|long)?text")
_ENUM = re.compile(r"enum\(.*\)", re.DOTALL)
_DATETIME = re.compile(r"(?:datetime|timestamp)(?:\((\d)\))?")
_PG_PRECISION = re.compile(r"\((\d)\)")  # absent: 6 digits
# to_char's fraction with n digits; PostgreSQL 12 has no FF1..FF6, so only 0, 3 and 6 digits.
_TO_CHAR_FRACTION = {0: "", 3: ".MS", 6: ".US"}
_BINARY = re.compile(r"(?:tiny|medium|long)?blob|(?:var)?binary\(\d+\)")

PG_INTEGERS = frozenset(("smallint", "integer", "bigint", "int2", "int4", "int8"))
PG_TEXTS = frozenset(("text", "varchar", "character varying"))
PG_CHARS = frozenset(("char", "character", "bpchar"))
PG_BOOLEANS = frozenset(("boolean", "bool"))
PG_TIMESTAMPS = frozenset(
    ("timestamp", "timestamptz", "timestamp without time zone", "timestamp with time zone")
)
# Built-in target types an enum label is not written into as text: any other target of an enum
# (its own enum type, a domain over text) prints the label back with ::text.
PG_NOT_ENUM = frozenset(
    (
        *(*PG_INTEGERS, *PG_BOOLEANS, *PG_TIMESTAMPS, "numeric", "decimal", "real", "double precision"),
        *("float4", "float8", "date", "time", "timetz", "time without time zone", "time with time zone"),
        *("interval", "json", "jsonb", "bytea", "uuid", "inet", "cidr", "bit", "varbit", "bit varying"),
        *("money", "xml"),
    )
)

_NUL = "CHAR(0 USING utf8mb4)"


@dataclass(frozen=True)
class FieldText:
    """One column's text on each side; NULL (in SQL) when the value is NULL."""

    mysql: str
    postgresql: str


def _pg_base(type_text: str) -> str:
    return " ".join(type_text.lower().split("(")[0].split())


def _norm(type_text: str) -> str:
    return " ".join(type_text.lower().split())


def _zero_dates(column: ColumnMapping, name: str, formatted: str) -> str:
    """The copy's treatment of zero dates (ferry.copy.mysql_values): NULL, or refused."""
    if not holds_zero_dates(column.source_type):
        return formatted
    zero = f"YEAR({name}) = 0 OR MONTH({name}) = 0 OR DAYOFMONTH({name}) = 0"
    instead = f"'{ZERO_DATE_TEXT}'" if column.zero_dates_error else "NULL"
    return f"IF({zero}, {instead}, {formatted})"


def _binary_text(expr: str, utf8: bool) -> str:
    """Text as its UTF-8 bytes (converted unless `utf8`), NUL removed as the copy removes it;
    binary, so columns of different collations concatenate without a collation conflict."""
    text = expr if utf8 else f"CONVERT({expr} USING utf8mb4)"
    return f"CAST(REPLACE({text}, {_NUL}, '') AS BINARY)"


def _quoted(expr: str, utf8: bool) -> str:
    """A source text as a CSV field: in double quotes, its own double quotes doubled."""
    return f"CONCAT('\"', REPLACE({_binary_text(expr, utf8)}, '\"', '\"\"'), '\"')"


def _pg_quoted(expr: str) -> str:
    return f"'\"' || replace({expr}, '\"', '\"\"') || '\"'"


def _timestamp(column: ColumnMapping, m: str, p: str, target: str) -> FieldText:
    """The server prints a datetime(n) with n digits; so does to_char when told, if the target
    holds no more digits than n (a difference past the source's digits must not be missed)."""
    match = _DATETIME.fullmatch(_norm(column.source_type))
    digits = int(match.group(1) or 0) if match else 6
    held = _PG_PRECISION.search(target)
    if digits in _TO_CHAR_FRACTION and (int(held.group(1)) if held else 6) <= digits:
        pattern = f"YYYY-MM-DD HH24:MI:SS{_TO_CHAR_FRACTION[digits]}"
        source = m
    else:  # `%` doubled: see mysql_digest_sql
        pattern, source = "YYYY-MM-DD HH24:MI:SS.US", f"DATE_FORMAT({m}, '%%Y-%%m-%%d %%H:%%i:%%s.%%f')"
    # to_char gives NULL for ±infinity, which no source has: spelled out, never taken for NULL.
    return FieldText(_zero_dates(column, m, source), f"coalesce(to_char({p}, '{pattern}'), {p}::text)")


def _number(source: str, target: str) -> bool:
    if _INT.fullmatch(source):
        return target in PG_INTEGERS or bool(_PG_SCALE0.fullmatch(target))
    decimal = _DECIMAL.fullmatch(source)
    pg_decimal = _PG_DECIMAL.fullmatch(target)
    if decimal is None or pg_decimal is None:
        return False
    return int(decimal.group(2) or 0) == int(pg_decimal.group(2) or 0)


def field_text(column: ColumnMapping, charset: str | None = None) -> FieldText | None:
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
        return FieldText(m, f"{p}::text")  # CONCAT_WS prints numbers as CAST(x AS CHAR) would
    enum = bool(_ENUM.fullmatch(source))
    if _TEXT.fullmatch(source) or enum:
        if pg_base not in PG_TEXTS | PG_CHARS and (not enum or pg_base in PG_NOT_ENUM):
            return None
        if pg_base in PG_CHARS:  # bpchar's text drops its padding; MySQL's CHAR drops it on read
            return FieldText(_quoted(f"RTRIM({m})", is_utf8(charset)), _pg_quoted(f"{p}::text"))
        return FieldText(_quoted(m, is_utf8(charset)), _pg_quoted(f"{p}::text"))
    if source == "date" and pg_base == "date":
        return FieldText(_zero_dates(column, m, m), f"{p}::text")
    if _DATETIME.fullmatch(source) and pg_base in PG_TIMESTAMPS:
        return _timestamp(column, m, p, target)
    if _BINARY.fullmatch(source) and pg_base == "bytea":
        # `x` first: an empty value's hex is empty, and only a NULL may be an empty field.
        return FieldText(f"CONCAT('x', HEX({m}))", f"'x' || upper(encode({p}, 'hex'))")
    return None


def json_text(column: ColumnMapping, charset: str | None = None) -> FieldText | None:
    """A JSON column's source text and jsonb's text, or None unless JSON or text into jsonb."""
    source = _norm(column.source_type)
    if column.transform is not None or _pg_base(column.target_type) != "jsonb":
        return None
    if source != "json" and not _TEXT.fullmatch(source):
        return None
    m, p = quote_ident("mysql", column.source), quote_ident("postgresql", column.target)
    return FieldText(_quoted(m, is_utf8(charset)), _pg_quoted(f"{p}::text"))


def mysql_row(fields: Sequence[str]) -> str:
    """The row's line. CONCAT_WS skips a NULL argument, so each field is IFNULL'd: a NULL is an
    empty field, as on the target (pg_row); a NOT NULL column pays for it too, in exchange for
    a line that stays aligned whatever the source's constraints say."""
    return "CONCAT_WS(',', " + ", ".join(f"IFNULL({f}, '')" for f in fields) + ")"


def pg_row(fields: Sequence[str]) -> str:
    return " || ',' || ".join(f"coalesce({f}, '')" for f in fields)


def mysql_digest_sql(relation: str, fields: Sequence[str], where: Sequence[str]) -> str:
    """Count and digest sum of the rows. The driver formats the statement with its parameters
    (`%s`), so every literal `%` comes doubled: in names (ferry.copy.sql.quote_ident), in the
    DATE_FORMAT patterns (field_text) and in the user's `where`."""
    piece = f"CAST(CONV(LEFT(MD5({mysql_row(fields)}), {HASH_HEX}), 16, 10) AS UNSIGNED)"
    condition = " WHERE " + " AND ".join(where) if where else ""
    select = f"COUNT(*), COALESCE(SUM({piece}), 0) FROM {relation}"
    return f"SELECT {select}{condition}"


def pg_digest_sql(relation: str, fields: Sequence[str], where: Sequence[str]) -> str:
    piece = f"('x' || left(md5({pg_row(fields)}), {HASH_HEX}))::bit({HASH_HEX * 4})::bigint"
    condition = " WHERE " + " AND ".join(where) if where else ""
    return f"SELECT count(*), coalesce(sum({piece}), 0) FROM {relation}{condition}"


@dataclass(frozen=True)
class Split:
    """A table's columns as the servers digest them (`pushed`, the key among them) and as Python
    compares them (`rest`, read with the key in key order); `rest` empty: the servers do it all."""

    pushed: tuple[ColumnMapping, ...]
    rest: tuple[ColumnMapping, ...]
    json: tuple[ColumnMapping, ...] = ()  # JSON into jsonb: digested too, after `pushed` (json_text)


def split(job: CopyJob, mapping: TableMapping) -> Split | None:
    """Which columns the servers digest, or None when the canonical comparison does it all: not
    MySQL into PostgreSQL, nothing but the key pushed down, or columns left for Python without an
    untransformed, pushed-down key to pair their rows by."""
    if job.endpoints.source.dialect != "mysql" or job.endpoints.target.dialect != "postgresql":
        return None
    pushed = tuple(c for c in mapping.columns if field_text(c) is not None)
    json = tuple(c for c in mapping.columns if field_text(c) is None and json_text(c) is not None)
    rest = tuple(c for c in mapping.columns if field_text(c) is None and json_text(c) is None)
    if not pushed and not json:
        return None
    if rest:
        names = {c.source for c in pushed}
        if not mapping.key or not all(k in names for k in mapping.key):
            return None
        if len(pushed) == len(mapping.key) and not json:  # the key alone: Python reads it anyway
            return None
    return Split(pushed, rest, json)


# Tables (migration, source table) whose source JSON text needed rendering in a range: the next
# ranges render it at once instead of first digesting the source's text on the server. Only a
# guess of this process: rendering a text that is already jsonb's gives the same digest.
_RENDER_FIRST: set[tuple[str, str]] = set()
# The source columns' character sets per (migration, source table): read once per process.
_CHARSETS: dict[tuple[str, str], dict[str, str | None]] = {}


async def _charsets(job: CopyJob, mapping: TableMapping, relation: str) -> dict[str, str | None]:
    table = (job.migration_uid, relation)
    if table not in _CHARSETS:
        sql, params = charsets_query(mapping)
        async with contextlib.aclosing(stream_rows(job.endpoints.source, sql, params)) as chunks:
            _CHARSETS[table] = charsets_from([row async for rows in chunks for row in rows])
    return _CHARSETS[table]


async def _one(endpoint: Endpoint, sql: str, params: Sequence[object]) -> tuple[int, str]:
    row = await first_row(endpoint, sql, params)
    return (int(row[0]), str(int(row[1]))) if row else (0, "0")


async def _rendered(
    endpoint: Endpoint, relation: str, fields: Sequence[str], json: Sequence[ColumnMapping],
    where: Sequence[str], params: Sequence[object],
) -> tuple[int, str] | None:  # fmt: skip
    """The source's digest with its JSON rendered as jsonb's text in Python; None when a
    document cannot be rendered exactly. Each row's line is the server's line of the
    pushed-down fields followed by the JSON fields, quoted, as pg_row spells the target's."""
    prefix = mysql_row(fields) if fields else "NULL"
    names = ", ".join(quote_ident("mysql", c.source) for c in json)
    condition = " WHERE " + " AND ".join(where) if where else ""
    sql = f"SELECT {prefix}, {names} FROM {relation}{condition}"
    rows, total, md5 = 0, 0, hashlib.md5
    async with contextlib.aclosing(stream_rows(endpoint, sql, params)) as chunks:
        async for chunk in chunks:
            for row in chunk:
                head = row[0]
                parts = [] if head is None else [head.encode() if type(head) is str else bytes(head)]
                for value in row[1:]:
                    if value is None:
                        parts.append(b"")
                        continue
                    rendered = jsonb_bytes(value)
                    if rendered is None:
                        return None
                    parts.append(b'"%s"' % rendered.replace(b'"', b'""'))
                text = b",".join(parts)
                # The first 15 hex digits of the MD5, as the servers take them.
                total += int.from_bytes(md5(text, usedforsecurity=False).digest()[:8], "big") >> 4
            rows += len(chunk)
    return rows, str(total)


async def digests(
    job: CopyJob,
    mapping: TableMapping,
    columns: Sequence[ColumnMapping],
    ranges: tuple[Predicate, Predicate] | None,
    json: Sequence[ColumnMapping] = (),
) -> tuple[tuple[int, str], tuple[int, str], bool]:
    """(rows, digest) of the source's and the target's `columns` and then `json` columns of the
    table or range, and whether the source's JSON was rendered in Python (its text was not
    jsonb's; module docstring)."""
    source_rel = source_relation("mysql", mapping.source_schema, mapping.source_table, False)
    charsets = await _charsets(job, mapping, source_rel)
    texts = [field_text(c, charsets.get(c.source)) for c in columns]
    json_texts = [json_text(c, charsets.get(c.source)) for c in json]
    if any(t is None for t in texts) or any(t is None for t in json_texts):
        raise ValueError("a column that is not pushed down was given to the servers' digest")
    target_rel = source_relation(
        "postgresql", mapping.target_schema, mapping.target_table, mapping.source_only
    )
    where_s = [f"({mapping.where.replace('%', '%%')})"] if mapping.where else []
    where_t: list[str] = []
    params: list[object] = []
    if ranges is not None:  # MySQL's predicate binds its bounds; PostgreSQL's carries them inline
        where_s.append(ranges[0].sql)
        where_t.append(ranges[1].sql)
        params = list(ranges[0].params)
    both = [t for t in (*texts, *json_texts) if t]
    source_sql = mysql_digest_sql(source_rel, [t.mysql for t in both], where_s)
    target_sql = pg_digest_sql(target_rel, [t.postgresql for t in both], where_t)
    fields = [t.mysql for t in texts if t]
    table = (job.migration_uid, source_rel)
    keys = ordered.ordered_keys(mapping, columns, ranges)
    if keys is not None and table not in _RENDER_FIRST:  # a key range: one MD5 of it per side
        line = mysql_row([t.mysql for t in both])
        found = await ordered.ordered_digests(
            job.endpoints.source,
            job.endpoints.target,
            (
                ordered.mysql_ordered_sql(source_rel, line, where_s, None),
                ordered.mysql_ordered_sql(source_rel, line, where_s, keys[0]),
            ),
            ordered.pg_ordered_sql(target_rel, pg_row([t.postgresql for t in both]), where_t, keys[1]),
            params,
        )
        # Equal, or different with no JSON to render: the answer. Else the rows' digests below
        # (too long a range, or JSON the source spells otherwise: rendered in Python per row).
        if found is not None and (found[0] == found[1] or not json):
            return found[0], found[1], False
    if json and table in _RENDER_FIRST:  # rendered on the source in an earlier range: at once
        target, rendered = await asyncio.gather(
            _one(job.endpoints.target, target_sql, ()),
            _rendered(job.endpoints.source, source_rel, fields, json, where_s, params),
        )
        if rendered is not None:
            return rendered, target, True
        return await _one(job.endpoints.source, source_sql, params), target, False  # declined
    source, target = await asyncio.gather(
        _one(job.endpoints.source, source_sql, params), _one(job.endpoints.target, target_sql, ())
    )
    if source == target or not json:
        return source, target, False
    rendered = await _rendered(job.endpoints.source, source_rel, fields, json, where_s, params)
    if rendered == target:
        _RENDER_FIRST.add(table)
    return (rendered or (source[0], "not rendered")), target, True
