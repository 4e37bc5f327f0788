"""Checksums computed by the servers, MySQL/MariaDB → PostgreSQL: the SQL both sides run.

The canonical comparison (ferry.copy.validate) spends most of its time turning values into
text in Python. For the columns whose text both servers can spell identically in SQL, each
server digests its own rows instead, as PostgreSQL → PostgreSQL does (validate_pushdown):

- Each row becomes a line of comma-separated fields, each column as both servers spell it
  (ferry.copy.validate_pushdown_texts: which types, in which form).
- The row's digest is the first 60 bits of the MD5 of its line, as an integer; a range's is
  `count(*)` and the exact sum of its rows' digests (MySQL's DECIMAL, PostgreSQL's numeric).
  Equal sums of a multiset of 60-bit hashes by chance: about one in 2**60 per differing range.
  A key range of a one-key table is first digested as one SHA-256 of its lines in key order on each
  server (ferry.copy.validate_pushdown_ordered: less work), and per row only when that declines.
- The source's text is first its values as stored, and only when that range's digests differ,
  its values as the copy wrote them (NUL characters dropped, zero dates NULL: cheaper to leave
  out when no value needs them, which is nearly always). A table whose range needed the second
  form starts its next ranges with it.
- JSON (MySQL JSON, MariaDB's LONGTEXT JSON, or text) into jsonb, untransformed: the source's
  text | `x::text`, jsonb's canonical text. Equal when the
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
values spelled alike, is what the escaping and the per-type texts rule out.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from ferry.copy import validate_pushdown_ordered as ordered
from ferry.copy.endpoints import Endpoint
from ferry.copy.jsonb_text import jsonb_bytes
from ferry.copy.mysql_charsets import charsets_from, charsets_query
from ferry.copy.runner import CopyJob
from ferry.copy.sql import Predicate, quote_ident, source_relation
from ferry.copy.streams import first_row, stream_rows
from ferry.copy.validate_pushdown_texts import (
    FIELD_SEPARATOR,
    NULL_FIELD,
    FieldText,
    escaped_bytes,
    field_text,
    json_text,
    mysql_row,
    pg_row,
)
from ferry.schema.mapping import ColumnMapping, TableMapping

HASH_HEX = 15  # 60 bits of the MD5: a sum of 2**32 rows stays far inside both servers' exact types


def mysql_digest_sql(relation: str, line: str, where: Sequence[str]) -> str:
    """Count and digest sum of the rows (`line`: mysql_row's). The driver formats the statement
    with its parameters (`%s`), so every literal `%` comes doubled: in names
    (ferry.copy.sql.quote_ident) and in the user's `where` (the fields' own SQL holds no `%`)."""
    piece = f"CAST(CONV(LEFT(MD5({line}), {HASH_HEX}), 16, 10) AS UNSIGNED)"
    condition = " WHERE " + " AND ".join(where) if where else ""
    select = f"COUNT(*), COALESCE(SUM({piece}), 0) FROM {relation}"
    return f"SELECT {select}{condition}"


def pg_digest_sql(relation: str, line: str, where: Sequence[str]) -> str:
    """Count and digest sum of the rows (`line`: pg_row's)."""
    piece = f"('x' || left(md5({line}), {HASH_HEX}))::bit({HASH_HEX * 4})::bigint"
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
# Tables whose range's digests were equal only with the source's values as the copy wrote them
# (a NUL in a text, a zero date: validate_pushdown_texts): their next ranges start in that form.
_AS_COPIED: set[tuple[str, str]] = set()
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
    pushed-down fields followed by the JSON fields, escaped, as pg_row spells the target's."""
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
                        parts.append(NULL_FIELD)
                        continue
                    rendered = jsonb_bytes(value)
                    if rendered is None:
                        return None
                    parts.append(escaped_bytes(rendered))
                text = FIELD_SEPARATOR.join(parts)
                # The first 15 hex digits of the MD5, as the servers take them.
                total += int.from_bytes(md5(text, usedforsecurity=False).digest()[:8], "big") >> 4
            rows += len(chunk)
    return rows, str(total)


def _texts(
    columns: Sequence[ColumnMapping], json: Sequence[ColumnMapping], charsets: dict[str, str | None],
    as_copied: bool,
) -> list[FieldText]:  # fmt: skip
    """The pushed-down columns' texts, then the JSON columns', in one of the source's forms."""
    texts = [
        *(field_text(c, charsets.get(c.source), as_copied) for c in columns),
        *(json_text(c, charsets.get(c.source), as_copied) for c in json),
    ]
    if any(t is None for t in texts):
        raise ValueError("a column that is not pushed down was given to the servers' digest")
    return [t for t in texts if t]


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
    both = _texts(columns, json, charsets, as_copied=True)  # the target's text is the same in both forms
    table = (job.migration_uid, source_rel)
    stored = table not in _AS_COPIED  # the source's first form: its values as stored
    first = _texts(columns, json, charsets, as_copied=False) if stored else both
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
    source_line, first_line = mysql_row([t.mysql for t in both]), mysql_row([t.mysql for t in first])
    target_line = pg_row(both, [c.nullable for c in (*columns, *json)])
    source_sql = mysql_digest_sql(source_rel, source_line, where_s)
    target_sql = pg_digest_sql(target_rel, target_line, where_t)
    fields = [t.mysql for t in both[: len(columns)]]  # without the JSON (rendered in Python)
    keys = ordered.ordered_keys(mapping, columns, ranges)
    if keys is not None and table not in _RENDER_FIRST:  # a key range: one SHA-256 of it per side
        found = await ordered.ordered_digests(
            job.endpoints.source,
            job.endpoints.target,
            (
                ordered.mysql_ordered_sql(source_rel, first_line, where_s, None),
                ordered.mysql_ordered_sql(source_rel, source_line, where_s, keys[0]),
            ),
            ordered.pg_ordered_sql(target_rel, target_line, where_t, keys[1]),
            params,
        )
        if found is not None and found.second_answered and found.source == found.target:
            _AS_COPIED.add(table)  # or only the scan order differed: then a quarter more MariaDB work
        # Equal, or different with no JSON to render: the answer. Else the rows' digests below
        # (too long a range, or JSON the source spells otherwise: rendered in Python per row).
        if found is not None and (found.source == found.target or not json):
            return found.source, found.target, False
    if json and table in _RENDER_FIRST:  # rendered on the source in an earlier range: at once
        target, rendered = await asyncio.gather(
            _one(job.endpoints.target, target_sql, ()),
            _rendered(job.endpoints.source, source_rel, fields, json, where_s, params),
        )
        if rendered is not None:
            return rendered, target, True
        return await _one(job.endpoints.source, source_sql, params), target, False  # declined
    first_sql = mysql_digest_sql(source_rel, first_line, where_s)
    source, target = await asyncio.gather(
        _one(job.endpoints.source, first_sql, params), _one(job.endpoints.target, target_sql, ())
    )
    if source != target and stored:  # the values as the copy wrote them
        source = await _one(job.endpoints.source, source_sql, params)
        if source == target:
            _AS_COPIED.add(table)
    if source == target or not json:
        return source, target, False
    rendered = await _rendered(job.endpoints.source, source_rel, fields, json, where_s, params)
    if rendered == target:
        _RENDER_FIRST.add(table)
    return (rendered or (source[0], "not rendered")), target, True
