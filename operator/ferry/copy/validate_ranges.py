"""Validation in key ranges: the unit of parallel work, of the result store, and of a repair.

A table whose key is one integer column, copied untransformed, is cut by key *value* into
ranges `(lo, hi]` of about `range_rows` values each (two index lookups for MIN/MAX, as the
copy splits such keys: ferry.copy.units); every other table is one range. Each range is read
on both sides with the same predicate (the source's in its own key form, the target's on the
target key column) and compared as ferry.copy.validate compares a table, streaming in chunks,
so memory is bounded by a chunk whatever the table's size. Ranges are independent: a worker
pod takes every `count`-th one, and a process compares `concurrency` at once.

Only integer keys are cut: their order is the same on every engine. Text keys sort by each
side's collation, so a range predicate could select different rows on the two sides; such a
table is validated in one piece (in binary key order, as before) and repaired as a whole.

A range that differs can be repaired (ferry.copy.repair) and is then compared again; the result
says so (`RangeResult.repaired`).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from ferry.copy.endpoints import Endpoint
from ferry.copy.keys import Key, describe_key, encode_key
from ferry.copy.reused_sessions import reused_sessions
from ferry.copy.runner import CopyJob
from ferry.copy.sql import Dialect, Predicate, key_range, quote_ident, source_relation
from ferry.copy.streams import scalar, stream_rows
from ferry.copy.units import even_splits, integer_key
from ferry.copy.validate import TableValidation, compare
from ferry.copy.validation_store import RangeResult
from ferry.schema.mapping import TableMapping

RANGE_ROWS = 20_000  # key values per range: small enough that a repair copies little again
MAX_RANGES = 4096  # per table; wider ranges beyond that
# A MySQL/MariaDB source's ranges hold about RANGE_BYTES of text (the servers join a range's rows
# into one text to hash it: ferry.copy.validate_pushdown_ordered), from the mean size of the
# first SAMPLE_ROWS rows' values. Fewer, larger ranges cost less per row (each range is two
# statements and a stored result): on the benchmark's 15M rows of ~190 bytes, ranges of 50,000
# keys took the validation Job 1 s less than ranges of 20,000 (24.6-24.9 s against 25.7-26.5 s).
# Above about 16 MB, PostgreSQL's joined text outgrows the memory its sessions keep
# (ferry.copy.pg_session_memory), and at 64 MB MariaDB cuts it (validate_pushdown_ordered).
RANGE_BYTES = 8 << 20
SAMPLE_ROWS = 1000
MIN_RANGE_ROWS, MAX_RANGE_ROWS = 1_000, 100_000


@dataclass(frozen=True)
class ValidationRange:
    range_id: str
    mapping: TableMapping
    lo: Key | None = None  # exclusive, in the source's key form (ferry.copy.keys); None: the start
    hi: Key | None = None  # inclusive; None: the end
    part: int = 0

    @property
    def table(self) -> str:
        return self.mapping.qualified_target

    @property
    def whole(self) -> bool:
        return self.lo is None and self.hi is None

    def bounds_text(self) -> str:
        return json.dumps([encode_key(self.lo), encode_key(self.hi)])

    def describe(self) -> str:
        if self.whole:
            return "table"
        low = f"after {describe_key(self.lo)}" if self.lo is not None else "from the start"
        high = f"up to {describe_key(self.hi)}" if self.hi is not None else "to the end"
        return f"keys {low} {high}"


def splittable(mapping: TableMapping) -> bool:
    """One integer key column copied untransformed: its ranges select the same rows on both sides."""
    column = next((c for c in mapping.columns if mapping.key and c.source == mapping.key[0]), None)
    return integer_key(mapping) and column is not None and column.transform is None


def table_ranges(mapping: TableMapping, low: int | None, high: int | None, range_rows: int,
                 dialect: Dialect) -> list[ValidationRange]:  # fmt: skip
    """The ranges of one table given its key's extent on the source (None: empty or not split)."""
    table = mapping.qualified_target
    if low is None or high is None or not splittable(mapping):
        return [ValidationRange(table, mapping)]
    parts = min(MAX_RANGES, max(1, math.ceil((high - low + 1) / range_rows)))
    points = even_splits(low, high, parts)
    # PostgreSQL keys travel as text, MySQL and SQLite keys as driver values (ferry.copy.keys).
    keys: list[Key | None] = [None, *[((str(p),) if dialect == "postgresql" else (p,)) for p in points], None]
    n = len(keys) - 1
    if n == 1:
        return [ValidationRange(table, mapping)]
    return [ValidationRange(f"{table}#{i + 1}/{n}", mapping, keys[i], keys[i + 1], i) for i in range(n)]


async def _extent(source: Endpoint, mapping: TableMapping) -> tuple[int | None, int | None]:
    dialect: Dialect = source.dialect
    relation = source_relation(dialect, mapping.source_schema, mapping.source_table, mapping.source_only)
    key = quote_ident(dialect, mapping.key[0])
    low: object = None
    high: object = None
    async for rows in stream_rows(source, f"SELECT min({key}), max({key}) FROM {relation}"):
        low, high = rows[0]
    # A SQLite column declared INT may hold text: then the table is one range.
    if not (isinstance(low, int) and isinstance(high, int)) and dialect == "sqlite":
        return None, None
    return (None, None) if low is None or high is None else (int(str(low)), int(str(high)))


async def _rows_per_range(source: Endpoint, mapping: TableMapping) -> int:
    """Keys per range of a table (RANGE_BYTES): from the values' sizes on a MySQL/MariaDB source,
    RANGE_ROWS on the others. The first rows by key, so that every pod reading the same rows
    computes the same ranges."""
    if source.dialect != "mysql":
        return RANGE_ROWS
    relation = source_relation("mysql", mapping.source_schema, mapping.source_table, mapping.source_only)
    names = [quote_ident("mysql", c.source) for c in mapping.columns]
    size = " + ".join(f"IFNULL(LENGTH({n}), 0)" for n in names)  # bytes; a number's digits
    key = quote_ident("mysql", mapping.key[0])
    sample = f"SELECT {', '.join(names)} FROM {relation} ORDER BY {key} LIMIT {SAMPLE_ROWS}"
    mean = await scalar(source, f"SELECT AVG({size} + {len(names)}) FROM ({sample}) AS sample")
    if mean is None:
        return RANGE_ROWS
    return max(MIN_RANGE_ROWS, min(MAX_RANGE_ROWS, int(RANGE_BYTES / max(1.0, float(str(mean))))))


async def plan_ranges(
    mappings: Sequence[TableMapping], source: Endpoint, range_rows: int | None = None
) -> list[ValidationRange]:
    """Every range of every table, by target table then key: the same list for the same source,
    so each worker pod computes it alone and takes its share. `range_rows`: keys per range of
    every table (None: _rows_per_range's)."""
    ranges: list[ValidationRange] = []
    for mapping in sorted(mappings, key=lambda m: m.qualified_target):
        low, high = await _extent(source, mapping) if splittable(mapping) else (None, None)
        rows = range_rows or (await _rows_per_range(source, mapping) if low is not None else RANGE_ROWS)
        ranges.extend(table_ranges(mapping, low, high, rows, source.dialect))
    return ranges


def ranges_for_worker(ranges: Sequence[ValidationRange], index: int, count: int) -> list[ValidationRange]:
    """Worker `index` of `count` takes every count-th range (ranges of a table are about equal)."""
    if not 0 <= index < count:
        raise ValueError(f"worker index {index} is outside 0..{count - 1}")
    return list(ranges[index::count])


def _target_key(key: Key | None, dialect: Dialect) -> Key | None:
    if key is None:
        return None
    return tuple(str(v) if dialect == "postgresql" else int(str(v)) for v in key)


def range_predicates(job: CopyJob, rng: ValidationRange) -> tuple[Predicate, Predicate] | None:
    """The range as the source's predicate and the target's; None for a whole table."""
    if rng.whole:
        return None
    mapping = rng.mapping
    column = next(c for c in mapping.columns if c.source == mapping.key[0])
    src, tgt = job.endpoints.source.dialect, job.endpoints.target.dialect
    source = key_range(src, mapping.key, [column.source_type], rng.lo, rng.hi)
    target = key_range(tgt, [column.target], [column.target_type], _target_key(rng.lo, tgt),
                       _target_key(rng.hi, tgt))  # fmt: skip
    return source, target


async def compare_range(job: CopyJob, rng: ValidationRange, checksum: bool, chunk_rows: int,
                        repaired: bool = False) -> RangeResult:  # fmt: skip
    found = await compare(job, rng.mapping, checksum, chunk_rows, range_predicates(job, rng))
    difference = found.first_difference
    if difference is None and found.source_rows != found.target_rows:
        difference = rng.describe()  # counts only: the range is what is known
    counts = (found.source_rows, found.target_rows)
    return RangeResult(rng.range_id, rng.table, rng.part, rng.bounds_text(), *counts,
                       found.checksum_match, difference, repaired, found.ordered,
                       found.target_digest if difference is None else None)  # fmt: skip


Repair = Callable[[ValidationRange], Awaitable[None]]
OnResult = Callable[[RangeResult], Awaitable[None]]


async def _noop(result: RangeResult) -> None:
    return None


async def validate_ranges(
    job: CopyJob,
    ranges: Sequence[ValidationRange],
    *,
    checksum: bool,
    chunk_rows: int = 10_000,
    concurrency: int = 2,
    repair: Repair | None = None,
    on_result: OnResult = _noop,
) -> list[RangeResult]:
    """Compare the ranges, `concurrency` at once; a range that differs is repaired (when a
    `repair` is given) and compared again. `on_result` hears each final result (the worker
    stores it). Results in the order of `ranges`."""
    gate = asyncio.Semaphore(max(1, concurrency))

    async def one(rng: ValidationRange) -> RangeResult:
        async with gate:
            result = await compare_range(job, rng, checksum, chunk_rows)
            if not result.ok and repair is not None:
                await repair(rng)
                result = await compare_range(job, rng, checksum, chunk_rows, repaired=True)
            await on_result(result)
            return result

    async with reused_sessions():  # a session per range and side cost a fifth of a range's time
        return list(await asyncio.gather(*(one(r) for r in ranges)))


def _table_checksum(parts: Sequence[RangeResult]) -> str | None:
    """sha256 over the ranges' target digests in key order: the table as validated. None unless
    every range was checksummed and matched."""
    digests = [r.target_digest for r in parts]
    if not all(digests):
        return None
    return "sha256:" + hashlib.sha256("\n".join(d or "" for d in digests).encode()).hexdigest()


def summarize(results: Sequence[RangeResult]) -> list[TableValidation]:
    """Per table (by name), the sums of its ranges; the first differing range (in key order)
    names the table's first difference, every differing range is listed."""
    by_table: dict[str, list[RangeResult]] = {}
    for result in sorted(results, key=lambda r: (r.table, r.part)):
        by_table.setdefault(result.table, []).append(result)
    tables = []
    for table, parts in by_table.items():
        bad = [r for r in parts if not r.ok]
        matches = [r.checksum_match for r in parts if r.checksum_match is not None]
        tables.append(
            TableValidation(
                table,
                sum(r.source_rows for r in parts),
                sum(r.target_rows for r in parts),
                all(matches) if matches else None,
                bad[0].first_difference if bad else None,
                ordered=all(r.ordered for r in parts),
                mismatched_ranges=tuple(r.range_id for r in bad),
                repaired_ranges=tuple(r.range_id for r in parts if r.repaired),
                checksum=_table_checksum(parts),
            )
        )
    return tables


async def validate(
    job: CopyJob,
    mappings: Sequence[TableMapping],
    *,
    checksum: bool = False,
    chunk_rows: int = 10_000,
    range_rows: int | None = None,
    concurrency: int = 2,
    repair: Repair | None = None,
) -> list[TableValidation]:
    """Row counts (and checksums when asked) of every table, range by range; in the order given."""
    ranges = await plan_ranges(mappings, job.endpoints.source, range_rows)
    results = await validate_ranges(
        job, ranges, checksum=checksum, chunk_rows=chunk_rows, concurrency=concurrency, repair=repair
    )
    given = {m.qualified_target: i for i, m in enumerate(mappings)}
    return sorted(summarize(results), key=lambda t: given.get(t.table, len(given)))
