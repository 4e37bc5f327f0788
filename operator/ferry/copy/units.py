"""Work units: a whole table, or a key range of a large one; and which worker takes which.

A table whose row estimate is over `CopySpec.split_threshold_rows` and that has a usable
key is split at key quantiles (every k-th key in key order, computed on the source) into
ranges `(lo, hi]`. The list is ordered by target table and part, and `units_for_worker`
assigns units by a deterministic greedy balance of estimated rows, so worker i of n
always takes the same units for the same list.

A single integer key is split by value between its minimum and maximum (two index
lookups) instead of by exact quantiles: the window query reads the whole key index,
seconds on a 10M-row table, and ids are usually dense enough for even parts. Any sorted
distinct split points are correct; only the balance depends on them.

Quantiles depend on the data: compute the unit list once (the operator or the CLI) and
hand the same list to every worker. Each unit's bounds are stored with its checkpoint;
a worker given a unit whose stored bounds differ refuses it (`UnitMismatch`) rather than
copy a range twice.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass

from ferry.api.migration import CopySpec
from ferry.copy.endpoints import (
    Endpoint,
    MySQLEndpoint,
    PgEndpoint,
    SQLiteEndpoint,
    open_mysql,
    open_pg,
    open_sqlite,
)
from ferry.copy.keys import Key, encode_key
from ferry.copy.sql import Dialect, quantile_query, quote_ident, source_relation
from ferry.schema.mapping import TableMapping

MAX_PARTS = 256
INTEGER_KEYS = frozenset(
    (
        "smallint",
        "integer",
        "bigint",
        "int",
        "int2",
        "int4",
        "int8",
        "tinyint",
        "mediumint",
        "serial",
        "bigserial",
    )
)


class UnitMismatch(Exception):
    """The checkpoint of a unit was written for different bounds: the unit list changed."""


@dataclass(frozen=True)
class WorkUnit:
    unit_id: str
    mapping: TableMapping
    lo: Key | None = None  # exclusive lower bound; None: the table's start
    hi: Key | None = None  # inclusive upper bound; None: the table's end
    part: int = 0
    parts: int = 1
    estimated_rows: int = 0

    @property
    def keyed(self) -> bool:
        return bool(self.mapping.key)

    @property
    def table(self) -> str:
        return self.mapping.qualified_target

    def bounds_text(self) -> str:
        return json.dumps([encode_key(self.lo), encode_key(self.hi)])


def parts_for(mapping: TableMapping, spec: CopySpec) -> int:
    if not mapping.key or mapping.row_estimate <= spec.split_threshold_rows:
        return 1
    wanted = max(spec.parallelism, math.ceil(mapping.row_estimate / spec.split_threshold_rows))
    return min(wanted, MAX_PARTS)


def split_units(mapping: TableMapping, boundaries: Sequence[Key]) -> list[WorkUnit]:
    """Units over the ranges between consecutive boundaries (sorted, distinct keys)."""
    edges: list[Key | None] = [None, *boundaries, None]
    parts = len(edges) - 1
    share = mapping.row_estimate // parts if parts else 0
    if parts == 1:
        return [WorkUnit(mapping.qualified_target, mapping, estimated_rows=mapping.row_estimate)]
    return [
        WorkUnit(
            f"{mapping.qualified_target}#{i + 1}/{parts}", mapping, edges[i], edges[i + 1], i, parts, share
        )
        for i in range(parts)
    ]


def integer_key(mapping: TableMapping) -> bool:
    if len(mapping.key) != 1:
        return False
    types = {c.source: c.source_type for c in mapping.columns}
    type_text = types.get(mapping.key[0], "").lower().split("(")[0].split()
    return bool(type_text) and type_text[0] in INTEGER_KEYS


def even_splits(low: int, high: int, parts: int) -> list[int]:
    """Distinct split points dividing (low - 1, high] into `parts` ranges of about equal width."""
    span = high - low + 1
    points = sorted({low - 1 + (span * i) // parts for i in range(1, parts)})
    return [p for p in points if low <= p < high]


async def _fetch_all(source: Endpoint, sql: str) -> list[Key]:
    if isinstance(source, PgEndpoint):
        conn = await open_pg(source)
        try:
            return [tuple(r) for r in await conn.fetch(sql)]
        finally:
            await conn.close()
    if isinstance(source, MySQLEndpoint):
        mconn = await open_mysql(source)

        def fetch() -> list[Key]:
            with mconn.cursor() as cur:
                cur.execute(sql, ())  # formatted, as every MySQL statement (sql.quote_ident)
                return [tuple(r) for r in cur.fetchall()]

        try:
            return await asyncio.to_thread(fetch)
        finally:
            mconn.close()
    if isinstance(source, SQLiteEndpoint):
        sconn = await open_sqlite(source)
        try:
            return await asyncio.to_thread(lambda: [tuple(r) for r in sconn.execute(sql).fetchall()])
        finally:
            sconn.close()
    raise ValueError(f"{source.dialect} is not supported as a copy source")


async def _integer_splits(mapping: TableMapping, source: Endpoint, parts: int) -> list[Key] | None:
    """Split points by value; None when the key's extreme values are not integers (a SQLite
    column declared INT may hold text): then the exact quantiles decide."""
    dialect: Dialect = source.dialect
    table = source_relation(dialect, mapping.source_schema, mapping.source_table, mapping.source_only)
    key = quote_ident(dialect, mapping.key[0])
    ((low, high),) = await _fetch_all(source, f"SELECT min({key}), max({key}) FROM {table}")
    if low is None or high is None:
        return []
    if dialect == "sqlite" and not (isinstance(low, int) and isinstance(high, int)):
        return None
    # PostgreSQL keys travel as text (ferry.copy.keys), MySQL and SQLite keys as driver values.
    return [(str(p),) if dialect == "postgresql" else (p,) for p in even_splits(int(low), int(high), parts)]


async def _quantiles(mapping: TableMapping, source: Endpoint, parts: int) -> list[Key]:
    if integer_key(mapping):
        by_value = await _integer_splits(mapping, source, parts)
        if by_value is not None:
            return by_value
    step = max(1, math.ceil(mapping.row_estimate / parts))
    dialect: Dialect = source.dialect
    table = source_relation(dialect, mapping.source_schema, mapping.source_table, mapping.source_only)
    keys = await _fetch_all(source, quantile_query(dialect, table, mapping.key, step))
    return keys[: parts - 1]


async def plan_units(mappings: Sequence[TableMapping], source: Endpoint, spec: CopySpec) -> list[WorkUnit]:
    """All work units of a migration, in a deterministic order (target table, then part)."""
    units: list[WorkUnit] = []
    for mapping in sorted(mappings, key=lambda m: m.qualified_target):
        parts = parts_for(mapping, spec)
        boundaries = await _quantiles(mapping, source, parts) if parts > 1 else []
        units.extend(split_units(mapping, boundaries))
    return units


# Relative width of a column for ordering work only: text-like values are wider than numbers and times.
WIDE_TYPES = ("char", "text", "json", "blob", "bytea", "binary", "xml", "array", "[]")


def estimated_work(unit: WorkUnit) -> int:
    """A unit's rows times a rough row width: the order in which a worker starts its units.

    Largest first, so the last unit running alone at the end of a copy is a small one. Only
    the order depends on it, never what is copied.
    """
    width = sum(4 if any(w in c.source_type.lower() for w in WIDE_TYPES) else 1 for c in unit.mapping.columns)
    return max(unit.estimated_rows, 1) * max(width, 1)


def units_for_worker(units: Sequence[WorkUnit], index: int, count: int) -> list[WorkUnit]:
    """The units worker `index` of `count` copies: largest first to the least-loaded worker."""
    if not 0 <= index < count:
        raise ValueError(f"worker index {index} is outside 0..{count - 1}")
    load = [0] * count
    mine: list[int] = []
    order = sorted(range(len(units)), key=lambda i: (-units[i].estimated_rows, i))
    for i in order:
        worker = min(range(count), key=lambda w: (load[w], w))
        load[worker] += max(units[i].estimated_rows, 1)
        if worker == index:
            mine.append(i)
    return [units[i] for i in sorted(mine)]
