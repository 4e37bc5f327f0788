"""The throttle guard (copy.throttle.guard): no new batch while a metric of the source's health is
above its threshold.

Before each new batch a unit asks the guard; the guard reads the query's value at most once per
`interval` (one reading is shared by all units of the process) and, while the value is above the
threshold, holds the unit at its batch boundary, reading again every `interval`. Batches in
flight finish and commit; holding a unit costs nothing, every committed batch being a
checkpoint. The process reports the pause (`throttled`, with the value) so the Migration shows it.

What counts as above: the largest value of the result (a vector of several series, a scalar).
An empty result is below: a query written as a filter (`lag_seconds > 30`) returns nothing while
all is well. A query that fails (Prometheus unreachable, a bad query) holds the copy too, with the
error as the reason: a guard that cannot see the source's health does not let the copy run blind.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from ferry.observability.errors import first_line

Query = Callable[[], Awaitable[float | None]]  # the metric now; None for an empty result
StopCheck = Callable[[], Awaitable[bool]]
GUARD = "copy.throttle.guard"


@dataclass
class BatchGuard:
    query: Query
    threshold: float
    interval: float = 10.0
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    paused: bool = False  # the last reading held the copy
    reason: str | None = None  # why, for the worker's status (never a row value)
    pauses: int = 0  # how many times the copy was held (reported, and tested)
    paused_seconds: float = 0.0
    _read_at: float | None = field(default=None, repr=False)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)

    async def _refresh(self) -> None:
        """Read the query when the last reading is older than `interval` (one reader at a time)."""
        async with self._lock:
            now = self.clock()
            if self._read_at is not None and now - self._read_at < self.interval:
                return
            self._read_at = now
            try:
                value = await self.query()
            except Exception as exc:
                failed = first_line(exc)
                self._hold(f"{GUARD}: the query failed ({failed}); no new batches until it answers")
                return
            if value is not None and value > self.threshold:
                self._hold(f"{GUARD}: {value:g} is above the threshold {self.threshold:g}; no new batches")
            else:
                self.paused, self.reason = False, None

    def _hold(self, reason: str) -> None:
        if not self.paused:
            self.pauses += 1
        self.paused, self.reason = True, reason

    async def wait_clear(self, should_stop: StopCheck) -> bool:
        """Return True once a new batch may start, False when the process is stopping meanwhile."""
        await self._refresh()
        while self.paused:
            started = self.clock()
            await self.sleep(self.interval)
            self.paused_seconds += self.clock() - started
            if await should_stop():
                return False
            await self._refresh()
        return True
