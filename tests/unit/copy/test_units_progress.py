"""Work units per worker, table splitting, and the progress tracker's rate and ETA."""

from __future__ import annotations

from ferry.api.migration import CopySpec
from ferry.copy import ProgressEvent, ProgressTracker, WorkUnit, units_for_worker
from ferry.copy.units import parts_for, split_units
from ferry.schema.mapping import ColumnMapping, TableMapping


def _mapping(name: str, rows: int, key: tuple[str, ...] = ("id",)) -> TableMapping:
    col = ColumnMapping("id", "id", "integer", "integer", False)
    return TableMapping(None, name, None, name, (col,), key, None, rows)


def test_every_unit_goes_to_exactly_one_worker_and_always_the_same_one() -> None:
    units = [WorkUnit(f"t{i}", _mapping(f"t{i}", 0), estimated_rows=(i * 37) % 11) for i in range(23)]
    shares = [units_for_worker(units, i, 4) for i in range(4)]
    assert sorted(u.unit_id for share in shares for u in share) == sorted(u.unit_id for u in units)
    assert shares == [units_for_worker(units, i, 4) for i in range(4)]
    loads = [sum(u.estimated_rows for u in share) for share in shares]
    assert max(loads) - min(loads) <= 10


def test_large_keyed_tables_split_small_and_keyless_ones_do_not() -> None:
    spec = CopySpec(split_threshold_rows=1000, parallelism=2)
    assert parts_for(_mapping("big", 5500), spec) == 6
    assert parts_for(_mapping("small", 999), spec) == 1
    assert parts_for(_mapping("nokey", 5500, key=()), spec) == 1
    units = split_units(_mapping("big", 3000), [("10",), ("20",)])
    assert [(u.lo, u.hi) for u in units] == [(None, ("10",)), (("10",), ("20",)), (("20",), None)]
    assert [u.unit_id for u in units] == ["big#1/3", "big#2/3", "big#3/3"]


def test_rate_uses_a_sliding_window_and_resumed_rows_do_not_count() -> None:
    now = [0.0]
    tracker = ProgressTracker(window_seconds=10, clock=lambda: now[0])
    tracker.expect("u", "t", 10_000)
    tracker.update(ProgressEvent("u", "t", 4000, 0, 10_000, False))  # resumed at 4000
    tracker.start()
    for _ in range(5):
        now[0] += 1
        tracker.update(ProgressEvent("u", "t", tracker.rows_copied + 100, 100, 10_000, False))
    assert tracker.rows_per_second() == 100.0
    assert tracker.eta_seconds() == (10_000 - 4500) / 100
    for _ in range(20):  # faster now: the old samples leave the window
        now[0] += 1
        tracker.update(ProgressEvent("u", "t", tracker.rows_copied + 200, 200, 10_000, False))
    assert tracker.rows_per_second() == 200.0
    tracker.update(ProgressEvent("u", "t", tracker.rows_copied, 0, 10_000, True))
    assert tracker.eta_seconds() == 0.0 and tracker.percent() == 100.0
