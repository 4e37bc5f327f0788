"""The copy driver: runs work units batch by batch, each batch committed with its checkpoint.

Per unit: open the checkpoint (resume from its key), then repeat: ask the source for the
key ending the next `batch_size` keys, stream the rows of that key range into the target
and advance the checkpoint to that key in the same target transaction. A unit without a
usable key is one batch: one transaction, so a retry never finds part of it.

The next batch's end key is looked up on a second source connection while the current
batch streams: the index-only scan behind it (up to a few hundred ms for large batches)
would otherwise stall both streams between batches. Where the rows travel as raw COPY
data and the user left `batchSize` unset, batches hold PASSTHROUGH_BATCH rows: each
commit waits for a WAL flush (fsync on) and restarts both streams; on 4.5M rows, 50,000-row
batches took 5.9-6.4 s against 3.8-5.2 s with 1M-row batches (2 cores, noisy).

Units of this process run concurrently (`CopyJob.concurrency` at a time, one connection
pair each): on two cores, two asyncio tasks matched two processes (copy-speed.md).
A failing unit does not stop the others.

A unit that fails because a database went away (ferry.db.outage: a restart, a failover, a
network cut) is copied again from its checkpoint after 1, 2, 4 … (at most 15) seconds, for
up to `Reconnect.give_up_after` seconds in all: the batch in flight rolled back with its
connection, so resuming loses and doubles nothing. `on_outage` hears of each wait (the worker
reports it, and the operator shows `DatabaseUnavailable`); each try again counts as a reconnect
of the side whose session was lost (`CopyJob.sessions`, ferry.copy.sessions). Any other failure
fails the unit.

`should_stop` is awaited before a unit starts and between its batches, never during one: a
True answer ends the unit as "stopped" at its last committed checkpoint (the next run resumes
there; nothing is rolled back). The hook may also wait (the worker waits there while
`spec.suspend` is set): it is awaited, so the other units' batches go on meanwhile, and it
must not block the event loop they share. The default never stops.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

from ferry.api.migration import CopySpec
from ferry.copy.batch import BatchWrite, CopyBytes, Payload, RowChunks
from ferry.copy.connections import (
    Source,
    Target,
    close_source,
    close_target,
    ensure_checkpoint_table,
    open_source,
    open_target,
)
from ferry.copy.endpoints import Endpoints
from ferry.copy.guard import BatchGuard
from ferry.copy.keys import Key, decode_key, describe_key, encode_key
from ferry.copy.mysql_source import MySQLSource
from ferry.copy.mysql_values import ZeroDateError, zero_date_column
from ferry.copy.pg_source import PgSource
from ferry.copy.pg_target import PgTarget
from ferry.copy.progress import ProgressEvent
from ferry.copy.projection import Projection, build_projection
from ferry.copy.sessions import SessionLedger, Side, lost_sides
from ferry.copy.slots import TARGET_CONNECTIONS, ConnectionSlots, SlotsTooFew, holding, source_need
from ferry.copy.throttle import ByteMeter, RateLimiter, metered
from ferry.copy.units import WorkUnit, estimated_work
from ferry.db.credentials import SecretSource
from ferry.db.outage import connection_lost
from ferry.observability.errors import describe

UnitState = Literal["done", "stopped", "failed"]
DEFAULT_BATCH = 50_000  # rows per batch where rows are converted, when batchSize is unset
PASSTHROUGH_BATCH = 500_000  # rows per batch on the COPY pass-through paths when batchSize is unset

StopCheck = Callable[[], Awaitable[bool]]
"""Awaited between batches: True stops the unit there (see the module docstring)."""
OutageHook = Callable[[str, str, float], None]
"""Told (unit_id, error, seconds until the next try) each time a unit waits for its database."""


@dataclass(frozen=True)
class Reconnect:
    """How long a unit waits for a database that went away, and how often it tries again."""

    give_up_after: float = 180.0
    first_delay: float = 1.0
    max_delay: float = 15.0


async def never_stop() -> bool:
    """The default `should_stop`: copy every unit to the end (`ferry run`)."""
    return False


@dataclass(frozen=True)
class CopyJob:
    migration_uid: str  # checkpoints are keyed by it: the same UID resumes, a new one starts over
    endpoints: Endpoints
    copy: CopySpec = field(default_factory=CopySpec)
    secrets: SecretSource | None = None  # keys of hash/encrypt transforms
    concurrency: int = 2  # units copied at once by this process
    throttle: RateLimiter | None = None  # this process's share of copy.throttle (shared by its units)
    guard: BatchGuard | None = None  # copy.throttle.guard: holds new batches while a metric is high
    source_slots: ConnectionSlots | None = None  # this process's share of the source's maxConnections
    target_slots: ConnectionSlots | None = None
    reconnect: Reconnect = field(default_factory=Reconnect)
    # Counts this process's reconnects per side; its sessions when `endpoints` came from its
    # `endpoints()` (the worker reports both: ferry.copy.sessions).
    sessions: SessionLedger | None = None


@dataclass(frozen=True)
class UnitResult:
    unit_id: str
    table: str
    state: UnitState
    rows_copied: int
    checkpoint: str = "-"
    error: str | None = None
    connection_lost: bool = False  # the error was a database going away (ferry.db.outage)
    lost: tuple[Side, ...] = ()  # which side's session was lost, when connection_lost


@dataclass(frozen=True)
class UnitResults:
    results: tuple[UnitResult, ...]

    @property
    def ok(self) -> bool:
        return all(r.state == "done" for r in self.results)

    @property
    def failed(self) -> list[UnitResult]:
        return [r for r in self.results if r.state == "failed"]

    @property
    def rows_copied(self) -> int:
        return sum(r.rows_copied for r in self.results)


def batch_size(spec: CopySpec, source: Source, target: Target, projection: Projection) -> int:
    """The user's batchSize; when unset, larger batches on paths that stream raw COPY data."""
    if spec.batch_size is not None:
        return spec.batch_size
    raw = (projection.passthrough and isinstance(source, PgSource)) or (
        isinstance(source, MySQLSource) and source.copy_line is not None
    )
    return PASSTHROUGH_BATCH if raw and isinstance(target, PgTarget) else DEFAULT_BATCH


def _payload(
    source: Source, target: Target, projection: Projection, lo: Key | None, hi: Key | None
) -> Payload:
    if projection.passthrough and isinstance(source, PgSource) and isinstance(target, PgTarget):
        fmt = projection.passthrough
        return CopyBytes(source.copy_chunks(lo, hi, fmt), fmt)
    if isinstance(source, MySQLSource) and isinstance(target, PgTarget) and source.copy_line is not None:
        return CopyBytes(source.copy_csv_chunks(lo, hi), "csv")
    return RowChunks(source.row_chunks(lo, hi))


async def copy_unit(
    job: CopyJob,
    unit: WorkUnit,
    progress: Callable[[ProgressEvent], None],
    should_stop: StopCheck = never_stop,
) -> UnitResult:
    """Copy one unit batch by batch from its committed checkpoint; awaits `should_stop` between batches."""
    endpoints = job.endpoints
    rows, checkpoint = 0, "-"
    source: Source | None = None
    bounds: Source | None = None  # a second source connection: the next batch's end key, looked up ahead
    target: Target | None = None
    pending: asyncio.Task[Key | None] | None = None

    def event(delta: int, done: bool, nbytes: int = 0) -> None:
        progress(ProgressEvent(unit.unit_id, unit.table, rows, delta, unit.estimated_rows, done, checkpoint,
                               nbytes))  # fmt: skip

    try:
        projection = build_projection(
            unit.mapping, endpoints.source.dialect, endpoints.target.dialect, job.secrets
        )
        target = await open_target(endpoints.target, job.copy.on_conflict)
        source = await open_source(endpoints.source, projection)
        size = batch_size(job.copy, source, target, projection)
        state = await target.open_unit(job.migration_uid, unit)
        rows, expected = state.rows_copied, state.last_key
        lo = decode_key(state.last_key) if state.last_key is not None else unit.lo
        checkpoint = describe_key(lo)
        event(0, state.done)
        done = state.done
        if unit.keyed and not done:
            bounds = await open_source(endpoints.source, projection, bounds_only=True)
            pending = asyncio.create_task(bounds.boundary(lo, unit.hi, size))
        while not done:
            if await should_stop():  # between batches: everything copied so far is committed
                return UnitResult(unit.unit_id, unit.table, "stopped", rows, checkpoint)
            if job.guard is not None and not await job.guard.wait_clear(should_stop):
                return UnitResult(unit.unit_id, unit.table, "stopped", rows, checkpoint)
            if pending is not None and bounds is not None:
                boundary = await pending
                done = boundary is None
                hi = unit.hi if boundary is None else boundary
                pending = None if done else asyncio.create_task(bounds.boundary(hi, unit.hi, size))
            else:
                hi, done = None, True
            new_key = encode_key(hi)
            write = BatchWrite(job.migration_uid, unit.unit_id, expected, new_key, done)
            meter = ByteMeter()
            payload = _payload(source, target, projection, lo, hi)
            # Raw COPY/CSV bytes are counted for the usage figures always (a len() per chunk); the
            # converting path sizes every value (measured: ~0.3-1.7 us each), so only under a
            # bytesPerSecond limit, which needs it.
            if isinstance(payload, CopyBytes) or (job.throttle is not None and job.throttle.bytes_per_second):
                payload = metered(payload, meter)
            try:
                copied = await target.write_batch(unit, write, payload)
            except Exception as exc:
                column = zero_date_column(exc)
                if column is None:
                    raise
                raise _zero_date_error(unit, column, lo, hi) from exc
            rows, expected, lo, checkpoint = rows + copied, new_key, hi, describe_key(hi)
            event(copied, done, meter.bytes)
            if job.throttle is not None and not done:
                await job.throttle.spend(copied, meter.bytes)
        return UnitResult(unit.unit_id, unit.table, "done", rows, checkpoint)
    except Exception as exc:  # reported per unit; the others go on
        lost = connection_lost(exc)
        sides = lost_sides(target, (source, bounds)) if lost else ()
        return UnitResult(unit.unit_id, unit.table, "failed", rows, checkpoint, describe(exc), lost, sides)
    finally:
        if pending is not None:
            # Not cancelled: a MySQL lookup runs in a thread on the connection closed next.
            with contextlib.suppress(BaseException):
                await pending
        for opened in (source, bounds):
            if opened is not None:
                await close_source(opened)
        if target is not None:
            await close_target(target)


def _zero_date_error(unit: WorkUnit, column: str, lo: Key | None, hi: Key | None) -> ZeroDateError:
    """Where the copy met a zero date of a zeroDates: error column: table, column, key range."""
    start = "the start" if lo is None else f"key {describe_key(lo)} (excluded)"
    end = "the end" if hi is None else f"key {describe_key(hi)}"
    return ZeroDateError(
        f"table {unit.mapping.qualified_source}: column {column} holds a zero date (zeroDates: error) "
        f"in the batch from {start} to {end}; nothing of this batch was written, the checkpoint "
        f"stays at {describe_key(lo)}. The target column keeps NOT NULL (zeroDates: error, or the "
        "column held no zero date when the plan was made). Fix the source rows, or set zeroDates: "
        "null for the column to write them as NULL"
    )


async def copy_unit_through_outages(
    job: CopyJob,
    unit: WorkUnit,
    progress: Callable[[ProgressEvent], None],
    should_stop: StopCheck = never_stop,
    on_outage: OutageHook = lambda unit_id, error, delay: None,
) -> UnitResult:
    """`copy_unit`, copied again from its checkpoint while it fails by losing a database, with
    backoff, for up to `job.reconnect.give_up_after` seconds (the module docstring)."""
    policy, loop = job.reconnect, asyncio.get_running_loop()
    started, delay = loop.time(), policy.first_delay
    while True:
        result = await copy_unit(job, unit, progress, should_stop)
        waited = loop.time() - started
        if result.state != "failed" or not result.connection_lost or waited + delay > policy.give_up_after:
            return result
        on_outage(unit.unit_id, result.error or "connection lost", delay)
        await asyncio.sleep(delay)
        if await should_stop():
            return replace(result, state="stopped", error=None)
        if job.sessions is not None:
            job.sessions.reconnected(result.lost)
        delay = min(delay * 2, policy.max_delay)


async def run_units(
    job: CopyJob,
    units: Sequence[WorkUnit],
    *,
    progress: Callable[[ProgressEvent], None] = lambda event: None,
    should_stop: StopCheck = never_stop,
    on_outage: OutageHook = lambda unit_id, error, delay: None,
) -> UnitResults:
    """Copy `units` (this worker's share) and return one result per unit, in order.

    `should_stop` is awaited before each unit starts and between its batches; a unit it stops
    is "stopped" (not "failed") and keeps its committed checkpoint.
    """
    async with holding(job.target_slots, TARGET_CONNECTIONS):
        await ensure_checkpoint_table(job.endpoints.target)
    slots = asyncio.Semaphore(max(1, job.concurrency))

    async def one(unit: WorkUnit) -> UnitResult:
        # maxConnections: a unit takes all its connection slots before it opens anything, always
        # the source's before the target's, so no two units can wait on each other.
        need = source_need(job.endpoints.source.dialect, unit.keyed)
        try:
            async with slots, holding(job.source_slots, need), holding(job.target_slots, TARGET_CONNECTIONS):
                if await should_stop():
                    return UnitResult(unit.unit_id, unit.table, "stopped", 0)
                return await copy_unit_through_outages(job, unit, progress, should_stop, on_outage)
        except SlotsTooFew as exc:
            return UnitResult(unit.unit_id, unit.table, "failed", 0, error=str(exc))

    # Started largest first (asyncio.Semaphore wakes waiters in order); results in the given order.
    started = sorted(range(len(units)), key=lambda i: -estimated_work(units[i]))
    tasks = {i: asyncio.ensure_future(one(units[i])) for i in started}
    return UnitResults(tuple(await asyncio.gather(*(tasks[i] for i in range(len(units))))))
