"""Validation after the copy: exact row counts, and optional checksums per key range.

Checksums are computed in Python on both sides with one canonicalisation (see
ferry.copy.canonical), because the two sides may be different engines with different
type systems and hash functions. The source side reads exactly what the copy reads (the
same projection and `where`) and applies the same transforms; the target side reads the
target columns. Encrypted columns are compared as plaintext: the source value against
the decryption of the target value (ciphertexts are random by design).

Ordered mode (the key is copied untransformed): both sides are read in key order — text
keys in binary (code point) order on both engines, `COLLATE "C"` on PostgreSQL,
`CAST(… AS BINARY)` on MySQL and `COLLATE BINARY` on SQLite — and compared chunk by chunk
(`chunk_rows` rows); the first differing chunk is reported with its source key range.
Otherwise (no key, or a hashed key) one order-independent checksum covers the table: the
sum of the rows' SHA-256 digests modulo 2**256.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Sequence
from dataclasses import dataclass

from ferry.api.migration import TransformType
from ferry.copy.canonical import Canon, canonical_for, canonical_row
from ferry.copy.endpoints import Endpoint
from ferry.copy.keys import describe_key
from ferry.copy.mysql_values import ZeroDateError, ZeroDateFound
from ferry.copy.projection import DRIVER_SCALARS, base_type, build_projection
from ferry.copy.runner import CopyJob
from ferry.copy.sql import Dialect, qualified, quote_ident, source_relation
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
    # sha256 over the target's canonical rows (in key order, or as a multiset when unordered): what
    # a run report keeps, so a later reading of the table can be compared with what was copied.
    checksum: str | None = None

    @property
    def ok(self) -> bool:
        return self.source_rows == self.target_rows and self.checksum_match is not False


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
    transform: Callable[[list[object]], list[object]]


def _sides(job: CopyJob, mapping: TableMapping) -> tuple[_Side, _Side, bool]:
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

    def apply(row: list[object]) -> list[object]:
        row = projection.apply_fixes(row)  # as the copy converted them (MySQL zero dates, ...)
        return [v if t is None else t(v) for v, t in zip(row, transforms, strict=True)]

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
    where = f" WHERE ({mapping.where})" if mapping.where else ""
    if src == "mysql":
        where = where.replace("%", "%%")
    sql_s = f"SELECT {', '.join(select_s)} FROM {source_from}{where}"
    sql_t = f"SELECT {', '.join(select_t)} FROM {target_from}"
    if ordered:
        types = _types_of(mapping)
        sql_s += " ORDER BY " + ", ".join(_order_expr(src, source_table, k, types[k]) for k in mapping.key)
        sql_t += " ORDER BY " + ", ".join(
            _order_expr(tgt, target_table, by_source[k].target, by_source[k].target_type) for k in mapping.key
        )
    return _Side(sql_s, [], canons_s, apply), _Side(sql_t, [], canons_t, lambda r: r), ordered


async def _canonical_rows(endpoint: Endpoint, side: _Side) -> AsyncGenerator[tuple[list[object], str], None]:
    async with contextlib.aclosing(stream_rows(endpoint, side.sql, side.params)) as chunks:
        async for rows in chunks:
            for row in rows:
                values = side.transform(list(row))
                yield list(row), canonical_row(values, side.canons)


async def _take(rows: AsyncIterator[tuple[list[object], str]], n: int) -> list[tuple[list[object], str]]:
    out: list[tuple[list[object], str]] = []
    async for item in rows:
        out.append(item)
        if len(out) >= n:
            break
    return out


def _digest(lines: Sequence[str]) -> str:
    h = hashlib.sha256()
    for line in lines:
        h.update(hashlib.sha256(line.encode()).digest())
    return h.hexdigest()


async def _compare_ordered(
    job: CopyJob, mapping: TableMapping, source: _Side, target: _Side, chunk_rows: int
) -> tuple[str | None, str]:
    """(the first differing key range or None, the target's digest over the chunks read)."""
    key_at = [next(i for i, c in enumerate(mapping.columns) if c.source == k) for k in mapping.key]
    src_rows = _canonical_rows(job.endpoints.source, source)
    tgt_rows = _canonical_rows(job.endpoints.target, target)
    whole = hashlib.sha256()
    try:
        while True:
            s, t = await _take(src_rows, chunk_rows), await _take(tgt_rows, chunk_rows)
            if not s and not t:
                return None, whole.hexdigest()
            target_digest = _digest([x[1] for x in t])
            whole.update(target_digest.encode())
            if _digest([x[1] for x in s]) != target_digest:
                rows = s or t
                first = tuple(rows[0][0][i] for i in key_at)
                last = tuple(rows[-1][0][i] for i in key_at)
                return f"keys {describe_key(first)} .. {describe_key(last)}", whole.hexdigest()
    finally:
        await src_rows.aclose()
        await tgt_rows.aclose()


async def _multiset_digest(endpoint: Endpoint, side: _Side) -> int:
    total = 0
    async for _, line in _canonical_rows(endpoint, side):
        total = (total + int.from_bytes(hashlib.sha256(line.encode()).digest(), "big")) % (1 << 256)
    return total


async def validate_table(
    job: CopyJob, mapping: TableMapping, checksum: bool, chunk_rows: int
) -> TableValidation:
    src, tgt = job.endpoints.source, job.endpoints.target
    source_table = source_relation(
        src.dialect, mapping.source_schema, mapping.source_table, mapping.source_only
    )
    target_table = source_relation(  # without the inheritance children it joined after the load
        tgt.dialect, mapping.target_schema, mapping.target_table, mapping.source_only
    )
    where = f" WHERE ({mapping.where})" if mapping.where else ""
    if src.dialect == "mysql":
        where = where.replace("%", "%%")
    source_rows = int(await scalar(src, f"SELECT COUNT(*) FROM {source_table}{where}"))
    target_rows = int(await scalar(tgt, f"SELECT COUNT(*) FROM {target_table}"))
    result = TableValidation(mapping.qualified_target, source_rows, target_rows)
    if not checksum:
        return result
    source, target, ordered = _sides(job, mapping)
    try:
        if ordered:
            difference, digest = await _compare_ordered(job, mapping, source, target, chunk_rows)
        else:
            target_sum = await _multiset_digest(tgt, target)
            same = await _multiset_digest(src, source) == target_sum
            difference = None if same else "table"
            digest = f"{target_sum:064x}"
    except ZeroDateFound as exc:  # written on the source after the copy (which would have failed)
        raise ZeroDateError(
            f"table {mapping.qualified_source}: column {exc.column} holds a zero date "
            "(zeroDates: error), found by the checksum: the copy did not write that row"
        ) from exc
    return TableValidation(
        mapping.qualified_target,
        source_rows,
        target_rows,
        difference is None,
        difference,
        ordered,
        f"sha256:{digest}",
    )


async def validate(
    job: CopyJob, mappings: Sequence[TableMapping], *, checksum: bool = False, chunk_rows: int = 10_000
) -> list[TableValidation]:
    """Row counts (and checksums when asked) of every table, in the order given."""
    return [await validate_table(job, m, checksum, chunk_rows) for m in mappings]
