"""Rate limits of the copy (copy.throttle): rows and bytes per second, per worker process.

A Migration's limit is shared by its workers: each takes limit / workers (ferry.services.
copy_driver). Within a process one limiter is shared by the units it copies at once. After each
committed batch the limiter adds the batch's cost to a virtual schedule — `rows / rowsPerSecond`
or `bytes / bytesPerSecond` seconds, whichever is longer — and the unit sleeps until the schedule
is back within one second of now. So the rate holds on average over any stretch of more than a
few batches, a batch is never split, and a pause costs nothing: everything copied so far is
committed with its checkpoint. Make batches smaller (copy.batchSize) for a smoother rate.

Bytes are counted as the data leaves the source: the raw COPY/CSV bytes on the streaming paths,
the sizes of the values (text and bytes by length, other values 8) on the converting path.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from ferry.copy.batch import CopyBytes, Payload, Row, RowChunks

BURST_SECONDS = 1.0  # how far ahead of the schedule a batch may start


@dataclass
class ByteMeter:
    bytes: int = 0


@dataclass
class RateLimiter:
    rows_per_second: float | None
    bytes_per_second: float | None
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    waited_seconds: float = 0.0  # total time spent holding batches back (reported, and tested)
    _schedule: float | None = field(default=None, repr=False)

    @property
    def active(self) -> bool:
        return bool(self.rows_per_second or self.bytes_per_second)

    async def spend(self, rows: int, nbytes: int) -> None:
        """Account for one committed batch; wait when the copy is ahead of the allowed rate."""
        cost = max(
            rows / self.rows_per_second if self.rows_per_second else 0.0,
            nbytes / self.bytes_per_second if self.bytes_per_second else 0.0,
        )
        now = self.clock()
        start = now if self._schedule is None else max(self._schedule, now - BURST_SECONDS)
        self._schedule = start + cost
        ahead = self._schedule - now - BURST_SECONDS
        if ahead > 0:
            self.waited_seconds += ahead
            await self.sleep(ahead)


def worker_share(limit: int | None, workers: int) -> float | None:
    return None if limit is None else limit / max(1, workers)


def _value_size(value: object) -> int:
    if isinstance(value, bytes | bytearray | memoryview):
        return len(value)
    if isinstance(value, str):
        return len(value.encode())
    return 0 if value is None else 8


async def _counted_bytes(chunks: AsyncIterator[bytes], meter: ByteMeter) -> AsyncIterator[bytes]:
    async for chunk in chunks:
        meter.bytes += len(chunk)
        yield chunk


async def _counted_rows(
    chunks: AsyncIterator[Sequence[Row]], meter: ByteMeter
) -> AsyncIterator[Sequence[Row]]:
    async for rows in chunks:
        meter.bytes += sum(_value_size(value) for row in rows for value in row)
        yield rows


def metered(payload: Payload, meter: ByteMeter) -> Payload:
    """The same payload, counting the bytes that pass through it into `meter`."""
    if isinstance(payload, CopyBytes):
        return CopyBytes(_counted_bytes(payload.chunks, meter), payload.format)
    return RowChunks(_counted_rows(payload.chunks, meter))
