"""Validation after the copy: exact row counts, and optional checksums per key range.

Checksums are computed in Python on both sides with one canonicalisation (see
ferry.copy.canonical), because the two sides may be different engines with different
type systems and hash functions; where the servers can digest their own rows alike
(ferry.copy.validate_pushdown, PostgreSQL → PostgreSQL; validate_pushdown_mysql, the columns
MySQL and PostgreSQL spell alike, JSON into jsonb among them, the rest compared here by key
beside them), they do, and a range whose digests differ is compared here again to name its
first differing chunk.

The source side reads exactly what the copy reads (the same projection and `where`) and
applies the same transforms; the target side reads the target columns. Encrypted columns are
compared as plaintext: the source value against the decryption of the target value
(ciphertexts are random by design).

Ordered mode (the key is copied untransformed): both sides are read in key order — text
keys in binary (code point) order on both engines, `COLLATE "C"` on PostgreSQL,
`CAST(… AS BINARY)` on MySQL and `COLLATE BINARY` on SQLite — and compared chunk by chunk
(`chunk_rows` rows); the first differing chunk is reported with its source key range.
Otherwise (no key, or a hashed key) one order-independent checksum covers the table: the
sum of the rows' SHA-256 digests modulo 2**256.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
from collections.abc import AsyncGenerator, Callable, Iterator, Sequence
from dataclasses import dataclass

from ferry.api.migration import TransformType
from ferry.copy import validate_pushdown, validate_pushdown_mysql, validate_pushdown_texts
from ferry.copy.canonical import Canon, canonical_for, canonical_row
from ferry.copy.endpoints import Endpoint
from ferry.copy.jsonb_text import jsonb_text
from ferry.copy.keys import describe_key
from ferry.copy.mysql_values import ZeroDateError, ZeroDateFound
from ferry.copy.projection import DRIVER_SCALARS, base_type, build_projection
from ferry.copy.runner import CopyJob
from ferry.copy.sql import Dialect, Predicate, qualified, quote_ident, source_relation
from ferry.copy.streams import scalar, stream_rows
from ferry.copy.transforms import aes_key, canonical_bytes, decrypt, secret_key
from ferry.schema.mapping import TableMapping

TEXTUAL = frozenset(
    (
        *("text", "varchar", "character varying", "char", "character", "bpchar", "citext", "name"),
        *("tinytext", "mediumtext", "longtext", "enum", "set"),
    )
)


@dataclass(frozen=True)
class TableValidation:
    table: str
    source_rows: int
    target_rows: int
    checksum_match: bool | None = None  # None: not computed
    first_difference: str | None = None  # the first differing key range, or "table" when unordered
    ordered: bool = False
    # The key ranges (validation ranges, see ferry.copy.validate_ranges) whose rows differ, in key
    # order: what a repair copies again. A table read as one range names "table".
    mismatched_ranges: tuple[str, ...] = ()
    repaired_ranges: tuple[str, ...] = ()  # copied again by a repair before this validation
    # sha256 over the target's digests of its ranges, in key order (each range's digest is the
    # servers' own on their paths, "rows:sum" and for the hybrid ":" the canonical digest of the
    # rest; the canonical rows' otherwise): what a run report keeps of a validated table. None
    # when a range differed or only rows were counted.
    checksum: str | None = None

    @property
    def ok(self) -> bool:
        return (
            self.source_rows == self.target_rows
            and self.checksum_match is not False
            and not self.mismatched_ranges
        )


def _read_expr(dialect: Dialect, name: str, type_text: str) -> str:
    ident = quote_ident(dialect, name)
    if dialect == "postgresql" and base_type(type_text) not in DRIVER_SCALARS:
        return f"{ident}::text"
    return ident


def _order_expr(dialect: Dialect, table: str, name: str, type_text: str) -> str:
    # Qualified: a select item `x::text` is named x too, and ORDER BY x would sort that text.
    ident = f"{table}.{quote_ident(dialect, name)}"
    if dialect == "sqlite":
        # Whatever the declared type (SQLite text may sit in any column): BINARY compares UTF-8
        # bytes, code point order, over a column's own NOCASE or RTRIM collation. Numbers ignore it.
        return f"{ident} COLLATE BINARY"
    if base_type(type_text) not in TEXTUAL:
        return ident
    if dialect == "postgresql":
        return f'{ident} COLLATE "C"'
    if dialect == "mysql":
        return f"CAST({ident} AS BINARY)"
    return ident


def _types_of(mapping: TableMapping) -> dict[str, str]:
    return {c.source: c.source_type for c in mapping.columns}


@dataclass
class _Side:
    sql: str
    params: list[object]
    canons: list[Canon]
    transform: Callable[[Sequence[object]], Sequence[object]]
    count: str = ""  # the same rows counted (no columns, no order)


def _filters(src: Dialect, where: str | None, key_range: Predicate | None) -> tuple[str, list[object]]:
    """` WHERE …` of a side's read: the user's filter (source only) and a validation range."""
    terms = [f"({where.replace('%', '%%') if src == 'mysql' else where})"] if where else []
    if key_range is not None:
        terms.append(key_range.sql)
    return (" WHERE " + " AND ".join(terms) if terms else ""), list(key_range.params if key_range else [])


def _sides(
    job: CopyJob, mapping: TableMapping, ranges: tuple[Predicate, Predicate] | None = None
) -> tuple[_Side, _Side, bool]:
    """The two reads of a table (or, given `ranges`, of one key range: the source's and the
    target's predicate) in canonical form, and whether they come in key order."""
    src, tgt = job.endpoints.source.dialect, job.endpoints.target.dialect
    projection = build_projection(mapping, src, tgt, job.secrets)
    by_source = {c.source: c for c in mapping.columns}
    ordered = bool(mapping.key) and all(
        k in by_source and by_source[k].transform is None for k in mapping.key
    )
    canons_t: list[Canon] = []
    transforms = list(projection.transforms)
    canons_s: list[Canon] = []
    for i, column in enumerate(mapping.columns):
        canon = canonical_for(column.target_type)
        canons_s.append(canon)
        canons_t.append(canon)
        if column.transform is not None and column.transform.type == TransformType.ENCRYPT:
            key = aes_key(secret_key(column.transform, job.secrets)) if job.secrets else b""
            transforms[i] = None
            canons_s[i] = lambda v: canonical_bytes(v).hex()
            canons_t[i] = lambda v, k=key: decrypt(k, bytes(v)).hex()  # type: ignore[misc]
        elif src == "mysql" and validate_pushdown_texts.json_text(column) is not None:
            # As the copy wrote it: in jsonb's own form (-0.0 is 0.0, 1E+2 is 100, 1.50 keeps its
            # scale), which the target's text already is; as read when it cannot be rendered.
            canons_s[i] = lambda v, c=canon: c(jsonb_text(v) or v)  # type: ignore[misc]

    def apply(row: Sequence[object]) -> Sequence[object]:
        fixed = projection.apply_fixes(row)  # as the copy converted them (MySQL zero dates, ...)
        return [v if t is None else t(v) for v, t in zip(fixed, transforms, strict=True)]

    select_s = [
        expr if projection.passthrough is None else _read_expr(src, c.source, c.source_type)
        for expr, c in zip(projection.source_select, mapping.columns, strict=True)
    ]
    select_t = [_read_expr(tgt, c.target, c.target_type) for c in mapping.columns]
    source_table = qualified(src, mapping.source_schema, mapping.source_table)
    source_from = source_relation(src, mapping.source_schema, mapping.source_table, mapping.source_only)
    target_table = qualified(tgt, mapping.target_schema, mapping.target_table)
    # The target table without the inheritance children it may have joined after the load.
    target_from = source_relation(tgt, mapping.target_schema, mapping.target_table, mapping.source_only)
    where_s, params_s = _filters(src, mapping.where, ranges[0] if ranges else None)
    where_t, params_t = _filters(tgt, None, ranges[1] if ranges else None)
    sql_s = f"SELECT {', '.join(select_s)} FROM {source_from}{where_s}"
    sql_t = f"SELECT {', '.join(select_t)} FROM {target_from}{where_t}"
    if ordered:
        types = _types_of(mapping)
        sql_s += " ORDER BY " + ", ".join(_order_expr(src, source_table, k, types[k]) for k in mapping.key)
        sql_t += " ORDER BY " + ", ".join(
            _order_expr(tgt, target_table, by_source[k].target, by_source[k].target_type) for k in mapping.key
        )
    as_copied = apply if projection.fixes or any(t is not None for t in transforms) else _as_read
    side_s = _Side(sql_s, params_s, canons_s, as_copied, f"SELECT COUNT(*) FROM {source_from}{where_s}")
    side_t = _Side(sql_t, params_t, canons_t, _as_read, f"SELECT COUNT(*) FROM {target_from}{where_t}")
    return side_s, side_t, ordered


def _as_read(row: Sequence[object]) -> Sequence[object]:
    return row


Rows = list[tuple[Sequence[object], str]]  # rows as read, each with its canonical text


async def _canonical_chunks(endpoint: Endpoint, side: _Side) -> AsyncGenerator[Rows, None]:
    """The read's rows with their canonical text, a fetched chunk at a time: one step of the
    generator per chunk, not per row (which cost as much as canonicalising a JSON value)."""
    async with contextlib.aclosing(stream_rows(endpoint, side.sql, side.params)) as chunks:
        async for rows in chunks:
            transform, canons = side.transform, side.canons
            yield [(row, canonical_row(transform(row), canons)) for row in rows]


class _Taken:
    """A chunked read taken `n` rows at a time."""

    def __init__(self, chunks: AsyncGenerator[Rows, None]) -> None:
        self.chunks = chunks
        self.rows: Rows = []

    async def take(self, n: int) -> Rows:
        while len(self.rows) < n:
            more = await anext(self.chunks, None)
            if more is None:
                break
            self.rows.extend(more)
        taken, self.rows = self.rows[:n], self.rows[n:]
        return taken


def _digest(lines: Sequence[str]) -> str:
    h = hashlib.sha256()
    for line in lines:
        h.update(hashlib.sha256(line.encode()).digest())
    return h.hexdigest()


@dataclass(frozen=True)
class Compared:
    """Both sides of one read (a table, or one key range of it) compared."""

    source_rows: int
    target_rows: int
    checksum_match: bool | None  # None: counts only
    first_difference: str | None  # the first differing chunk's keys, or "table" when unordered
    ordered: bool = False
    target_digest: str | None = None  # of the target's rows, when they matched the source's
    # How the checksums were compared: "servers" (each server digested its rows), "servers+json"
    # (so did the target; the source's JSON was rendered as jsonb's text in Python), "hybrid" (the
    # servers some columns, Python the rest by key), "canonical" (Python, every column).
    path: str = "canonical"


async def _take_both(source: _Taken, target: _Taken, n: int) -> tuple[Rows, Rows]:
    """The next `n` rows of both sides, read at once. When one side raises (a zero date found on
    the source, a lost connection), the other read is let finish first: closing a generator
    while it is still running would raise in place of the real error."""
    s, t = await asyncio.gather(source.take(n), target.take(n), return_exceptions=True)
    if isinstance(s, BaseException):
        raise s
    if isinstance(t, BaseException):
        raise t
    return s, t


async def _compare_ordered(
    job: CopyJob, mapping: TableMapping, source: _Side, target: _Side, chunk_rows: int
) -> Compared:
    """Chunk by chunk in key order, both sides read at once; after the first differing chunk
    the rest is only counted (no digests)."""
    key_at = [next(i for i, c in enumerate(mapping.columns) if c.source == k) for k in mapping.key]
    src_chunks = _canonical_chunks(job.endpoints.source, source)
    tgt_chunks = _canonical_chunks(job.endpoints.target, target)
    src_rows, tgt_rows = _Taken(src_chunks), _Taken(tgt_chunks)
    counts, difference = [0, 0], None
    whole = hashlib.sha256()  # the target's chunk digests in key order
    try:
        while True:
            s, t = await _take_both(src_rows, tgt_rows, chunk_rows)
            if not s and not t:
                break
            counts[0], counts[1] = counts[0] + len(s), counts[1] + len(t)
            if difference is not None:
                continue
            lines = [x[1] for x in t]
            whole.update(_digest(lines).encode())
            if [x[1] for x in s] != lines:  # the texts themselves: no need to hash the source's
                rows = s or t
                first = tuple(rows[0][0][i] for i in key_at)
                last = tuple(rows[-1][0][i] for i in key_at)
                difference = f"keys {describe_key(first)} .. {describe_key(last)}"
    finally:
        await src_chunks.aclose()
        await tgt_chunks.aclose()
    digest = whole.hexdigest() if difference is None else None
    return Compared(counts[0], counts[1], difference is None, difference, ordered=True, target_digest=digest)


async def _multiset_digest(endpoint: Endpoint, side: _Side) -> tuple[int, int]:
    """The order-independent digest of a read, and its row count."""
    total, rows = 0, 0
    async with contextlib.aclosing(_canonical_chunks(endpoint, side)) as chunks:
        async for chunk in chunks:
            for _, line in chunk:
                total = (total + int.from_bytes(hashlib.sha256(line.encode()).digest(), "big")) % (1 << 256)
            rows += len(chunk)
    return total, rows


async def compare(
    job: CopyJob,
    mapping: TableMapping,
    checksum: bool,
    chunk_rows: int,
    ranges: tuple[Predicate, Predicate] | None = None,
) -> Compared:
    """Row counts, and checksums when asked, of one table or (given the source's and the
    target's predicate) of one key range of it. With checksums the rows are counted as they
    stream past, so each side is read once."""
    src, tgt = job.endpoints.source, job.endpoints.target
    source, target, ordered = _sides(job, mapping, ranges)
    if not checksum:
        source_rows, target_rows = await asyncio.gather(
            scalar(src, source.count, source.params), scalar(tgt, target.count, target.params)
        )
        return Compared(int(source_rows), int(target_rows), None, None, ordered)
    found = await _on_servers(job, mapping, ordered, chunk_rows, ranges)
    if found is not None:
        return found
    # Not for the servers, or their digests differ: the canonical comparison below names the
    # first differing chunk.
    with _zero_dates_named(mapping):
        if ordered:
            return await _compare_ordered(job, mapping, source, target, chunk_rows)
        (digest_s, rows_s), (digest_t, rows_t) = await asyncio.gather(
            _multiset_digest(src, source), _multiset_digest(tgt, target)
        )
    same = digest_s == digest_t
    return Compared(
        rows_s, rows_t, same, None if same else "table", ordered, f"{digest_t:064x}" if same else None
    )


@contextlib.contextmanager
def _zero_dates_named(mapping: TableMapping) -> Iterator[None]:
    try:
        yield
    except ZeroDateFound as exc:  # written on the source after the copy (which would have failed)
        raise ZeroDateError(
            f"table {mapping.qualified_source}: column {exc.column} holds a zero date "
            "(zeroDates: error), found by the checksum: the copy did not write that row"
        ) from exc


async def _on_servers(
    job: CopyJob,
    mapping: TableMapping,
    ordered: bool,
    chunk_rows: int,
    ranges: tuple[Predicate, Predicate] | None,
) -> Compared | None:
    """The comparison with the servers' digests (ferry.copy.validate_pushdown for PostgreSQL →
    PostgreSQL, validate_pushdown_mysql for MySQL → PostgreSQL, with the columns they cannot
    spell alike compared in Python by key meanwhile); None when it does not apply or found a
    difference, which the canonical comparison then names."""
    if validate_pushdown.eligible(job, mapping):
        on_s, on_t = await validate_pushdown.digests(job, mapping, ranges)
        if on_s != on_t:
            return None
        return Compared(on_s[0], on_t[0], True, None, ordered, f"{on_t[0]}:{on_t[1]}", "servers")
    halves = validate_pushdown_mysql.split(job, mapping)
    if halves is None:
        return None
    digests = validate_pushdown_mysql.digests(job, mapping, halves.pushed, ranges, halves.json)
    if not halves.rest:
        on_s, on_t, rendered = await digests
        if on_s != on_t:
            return None
        path = "servers+json" if rendered else "servers"
        return Compared(on_s[0], on_t[0], True, None, ordered, f"{on_t[0]}:{on_t[1]}", path)
    # The rest with the key, in key order: the servers' digests pair each row's pushed-down
    # columns with its key, and the key pairs them with the rest.
    keep = {c.source for c in halves.rest} | set(mapping.key)
    rest = dataclasses.replace(mapping, columns=tuple(c for c in mapping.columns if c.source in keep))
    source, target, _ = _sides(job, rest, ranges)
    servers, by_key = await asyncio.gather(digests, _compare_ordered(job, rest, source, target, chunk_rows),
                                           return_exceptions=True)  # fmt: skip
    with _zero_dates_named(mapping):  # the one that failed, once the other finished
        if isinstance(servers, BaseException):
            raise servers
        if isinstance(by_key, BaseException):
            raise by_key
    on_s, on_t, _ = servers
    if on_s != on_t or not by_key.checksum_match or by_key.source_rows != on_s[0]:
        return None
    digest = f"{on_t[0]}:{on_t[1]}:{by_key.target_digest}"
    return Compared(on_s[0], on_t[0], True, None, True, digest, "hybrid")
