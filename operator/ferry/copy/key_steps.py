"""Batch bounds by key value for a dense single integer key: no walk over the rows a batch skips.

The exact bound of a batch is the key `batch_size` rows after its start (`ORDER BY key LIMIT 1
OFFSET n-1`), which walks n index entries: 50 ms per 500k keys on PostgreSQL, and on InnoDB,
whose primary key is the table itself, a walk over the rows (0.1 s per 500k). When a table's
keys are one integer column with values about as many as its rows (the span at most DENSE_SPAN
times the row estimate), a batch is instead the next `batch_size` key *values*: at most
`batch_size` rows (keys are unique), found with MIN/MAX index lookups.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from ferry.copy.keys import Key
from ferry.copy.sql import Predicate
from ferry.copy.units import integer_key
from ferry.schema.mapping import TableMapping

DENSE_SPAN = 2
# (min, max) of the key over the rows matching a predicate, as the source's driver gives them.
Extent = Callable[[Predicate], Awaitable[tuple[object, object]]]


def dense(low: object, high: object, row_estimate: int) -> bool:
    """Whether the key values from `low` to `high` are dense enough to batch by value."""
    if low is None or high is None:
        return True  # an empty table: one batch either way
    return int(str(high)) - int(str(low)) + 1 <= DENSE_SPAN * row_estimate


def value_bound(lo: Key | None, low: object, high: object, batch_size: int) -> int | None:
    """The last key value of the next batch after `lo` (`low`/`high`: the extent of the keys after
    `lo` in the unit); None when the rest of the unit fits in one batch."""
    if high is None:
        return None
    end = (int(str(lo[0])) if lo is not None else int(str(low)) - 1) + batch_size
    return None if int(str(high)) <= end else end


class KeySteps:
    """One source's choice of key-value batches (decided once, from the whole table's extent)
    and the bounds they give; `extent` is the source's MIN/MAX query."""

    def __init__(self, mapping: TableMapping, extent: Extent) -> None:
        self.mapping = mapping
        self.extent = extent
        self.by_value: bool | None = None  # None until first asked

    async def dense_key(self) -> bool:
        if self.by_value is None:
            self.by_value = integer_key(self.mapping) and dense(
                *await self.extent(Predicate("TRUE")), self.mapping.row_estimate
            )
        return self.by_value

    async def bound(self, lo: Key | None, in_range: Predicate, batch_size: int) -> int | None:
        """`value_bound` over the keys of `in_range` (the rest of the unit after `lo`)."""
        return value_bound(lo, *await self.extent(in_range), batch_size)
