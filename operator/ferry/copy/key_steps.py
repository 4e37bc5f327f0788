"""Batch bounds by key value for a dense single integer key: no walk over the rows a batch skips.

The exact bound of a batch is the key `batch_size` rows after its start (`ORDER BY key LIMIT 1
OFFSET n-1`), which walks n index entries: 50 ms per 500k keys on PostgreSQL, and on InnoDB,
whose primary key is the table itself, a walk over the rows (0.1 s per 500k). When a table's
keys are one integer column with values about as many as its rows (the span at most DENSE_SPAN
times the row estimate), a batch is instead the next `batch_size` key *values*: at most
`batch_size` rows (keys are unique), found with MIN/MAX index lookups.
"""

from __future__ import annotations

from ferry.copy.keys import Key

DENSE_SPAN = 2


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
