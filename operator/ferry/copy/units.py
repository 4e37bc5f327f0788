"""Work units: a whole table, or a key range of a large one; and which worker takes which.

A table whose row estimate is over `CopySpec.split_threshold_rows` and that has a usable
key is split at key quantiles (every k-th key in key order, computed on the source) into
ranges `(lo, hi]`. The list is ordered by target table and part, and `units_for_worker`
assigns units by a deterministic greedy balance of estimated rows, so worker i of n
always takes the same units for the same list.

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
from ferry.copy.endpoints import Endpoint, MySQLEndpoint, PgEndpoint, open_mysql, open_pg
from ferry.copy.keys import Key, encode_key
from ferry.copy.sql import qualified, quantile_query
from ferry.schema.mapping import TableMapping

MAX_PARTS = 256


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


async def _quantiles(mapping: TableMapping, source: Endpoint, parts: int) -> list[Key]:
    step = max(1, math.ceil(mapping.row_estimate / parts))
    if isinstance(source, PgEndpoint):
        table = qualified("postgresql", mapping.source_schema, mapping.source_table)
        conn = await open_pg(source)
        try:
            rows = await conn.fetch(quantile_query("postgresql", table, mapping.key, step))
        finally:
            await conn.close()
        keys = [tuple(r) for r in rows]
    elif isinstance(source, MySQLEndpoint):
        table = qualified("mysql", mapping.source_schema, mapping.source_table)
        conn = await open_mysql(source)

        def fetch() -> list[Key]:
            with conn.cursor() as cur:
                cur.execute(quantile_query("mysql", table, mapping.key, step))
                return [tuple(r) for r in cur.fetchall()]

        try:
            keys = await asyncio.to_thread(fetch)
        finally:
            conn.close()
    else:
        raise ValueError(f"{source.dialect} is not supported as a copy source")
    return keys[: parts - 1]


async def plan_units(mappings: Sequence[TableMapping], source: Endpoint, spec: CopySpec) -> list[WorkUnit]:
    """All work units of a migration, in a deterministic order (target table, then part)."""
    units: list[WorkUnit] = []
    for mapping in sorted(mappings, key=lambda m: m.qualified_target):
        parts = parts_for(mapping, spec)
        boundaries = await _quantiles(mapping, source, parts) if parts > 1 else []
        units.extend(split_units(mapping, boundaries))
    return units


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
