"""Progress: events per committed batch, and a tracker for rows/second and ETA.

The rate is measured over a sliding window (default 30 s) of (time, total rows) samples,
so a slow start or a pause does not distort it for long; the ETA is the remaining
estimated rows over that rate. The clock is injected for tests.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ProgressEvent:
    unit_id: str
    table: str  # qualified target table
    rows_copied: int  # total for the unit, committed
    rows_delta: int  # rows in the batch just committed
    estimated_rows: int
    done: bool
    checkpoint: str = "-"  # human form of the committed key
    bytes_delta: int = 0  # bytes of the batch as read from the source (ferry.copy.throttle.metered)


@dataclass
class UnitProgress:
    table: str
    rows_copied: int = 0
    estimated_rows: int = 0
    done: bool = False
    checkpoint: str = "-"


@dataclass
class ProgressTracker:
    window_seconds: float = 30.0
    clock: Callable[[], float] = time.monotonic
    units: dict[str, UnitProgress] = field(default_factory=dict)
    _samples: deque[tuple[float, int]] = field(default_factory=deque)
    _moved: int = 0  # rows moved by this process: resumed rows must not count in the rate
    bytes_moved: int = 0  # bytes read from the source by this process (usage)

    def expect(self, unit_id: str, table: str, estimated_rows: int) -> None:
        """Declare a unit before it starts, so totals and ETA count it."""
        self.units.setdefault(unit_id, UnitProgress(table, estimated_rows=estimated_rows))

    def update(self, event: ProgressEvent) -> None:
        unit = self.units.setdefault(event.unit_id, UnitProgress(event.table))
        unit.rows_copied = event.rows_copied
        unit.estimated_rows = max(event.estimated_rows, unit.estimated_rows)
        unit.done = event.done
        unit.checkpoint = event.checkpoint
        if unit.done:
            unit.estimated_rows = unit.rows_copied
        self._moved += event.rows_delta
        self.bytes_moved += event.bytes_delta
        self._sample()

    def start(self) -> None:
        """Start the rate clock (call when copying begins; the first batch is then counted)."""
        self._sample()

    def _sample(self) -> None:
        now = self.clock()
        self._samples.append((now, self._moved))
        while len(self._samples) > 2 and self._samples[1][0] <= now - self.window_seconds:
            self._samples.popleft()

    @property
    def rows_copied(self) -> int:
        return sum(u.rows_copied for u in self.units.values())

    @property
    def rows_estimated(self) -> int:
        return sum(max(u.estimated_rows, u.rows_copied) for u in self.units.values())

    def rows_per_second(self) -> float:
        if len(self._samples) < 2:
            return 0.0
        (t0, r0), (t1, r1) = self._samples[0], self._samples[-1]
        return (r1 - r0) / (t1 - t0) if t1 > t0 else 0.0

    def eta_seconds(self) -> float | None:
        if all(u.done for u in self.units.values()) and self.units:
            return 0.0
        rate = self.rows_per_second()
        if rate <= 0:
            return None
        return max(self.rows_estimated - self.rows_copied, 0) / rate

    def percent(self) -> float:
        total = self.rows_estimated
        if total == 0:
            return 100.0 if self.units and all(u.done for u in self.units.values()) else 0.0
        return min(100.0, 100.0 * self.rows_copied / total)

    def tables(self) -> dict[str, UnitProgress]:
        """Progress summed per target table (split tables have several units)."""
        out: dict[str, UnitProgress] = {}
        for unit in self.units.values():
            t = out.setdefault(unit.table, UnitProgress(unit.table, done=True))
            t.rows_copied += unit.rows_copied
            t.estimated_rows += max(unit.estimated_rows, unit.rows_copied)
            t.done = t.done and unit.done
            t.checkpoint = unit.checkpoint
        return out
