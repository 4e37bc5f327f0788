"""The follower: read committed source transactions after the stored position, apply them, repeat,
until a cutover (or a stop, or a schema change on the source).

Each batch (at most `max_changes` changes per read: memory stays bounded) is applied and its
position stored in one target transaction (ferry.cdc.apply_pg); only then is the source told
(`ChangeSource.confirm`), so a follower killed anywhere resumes from the stored position with
nothing lost and nothing applied twice. What the source hands over again after a restart (a
replication slot resends from its confirmed position) is dropped here by `uncovered`.

While the target writes a batch, the next one is read and prepared (rendered and compacted),
so the source, Python and the target work at the same time; at most two batches are in memory.
Calls to the source stay one at a time, and a confirmation waits until no read is under way.
Lag (seconds) is now minus the commit time of the oldest transaction not yet applied, 0 after
a read that brought nothing.

Cutover: the request arrives through the bookkeeping row on the target (`ferry cutover`, the
operator), polled about once a second. Once the lag is at most the requested maximum, the
source's current position becomes the cutover position (stored, state CuttingOver); every
transaction committed up to it is applied, then cutover_reached_at is stored (CutOver) and the
follower returns. "Up to it" is known when the stream hands over a transaction past it, when the
applied position reaches it, or, for a source that went quiet, after `drain_reads` reads in a
row came back empty: the stream has no "read through" position to compare with.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum

from ferry.cdc import bookkeeping
from ferry.cdc.apply_pg import PgApplier, PreparedBatch
from ferry.cdc.bookkeeping import ReplicationRecord
from ferry.cdc.changes import (
    AppliedPosition,
    ChangeSource,
    Position,
    SourceLag,
    SourceSchemaChanged,
    SourceTransaction,
)
from ferry.cdc.progress import FollowState, ReplicationProgress
from ferry.copy.endpoints import PgConnection, PgEndpoint, open_pg
from ferry.copy.sql import Dialect
from ferry.db.credentials import SecretSource
from ferry.schema.mapping import TableMapping


@dataclass(frozen=True)
class FollowSettings:
    max_changes: int = 10_000  # per read, and so per target transaction at most (about)
    wait_seconds: float = 1.0  # how long a read waits for the first transaction
    report_seconds: float = 1.0  # progress reports at most this often (and on every state change)
    poll_seconds: float = 1.0  # how often the bookkeeping row is read for a cutover request
    details_seconds: float = 10.0  # how often the source is asked for its details (slot, binlog)
    drain_reads: int = 2  # empty reads in a row after the cutover position that end the cutover


class FollowOutcome(StrEnum):
    CUT_OVER = "CutOver"
    STOPPED = "Stopped"
    SCHEMA_CHANGED = "SchemaChanged"
    HANDED_OFF = "HandedOff"  # everything up to `stop_at` applied: native apply continues from here


@dataclass(frozen=True)
class FollowResult:
    outcome: FollowOutcome
    applied: AppliedPosition
    changes_applied: int
    cutover_position: Position | None = None
    schema_change: SourceSchemaChanged | None = None

    @property
    def message(self) -> str:
        if self.outcome == FollowOutcome.SCHEMA_CHANGED and self.schema_change is not None:
            return f"the source changed the structure of a followed table: {self.schema_change}"
        if self.outcome == FollowOutcome.CUT_OVER:
            return f"cut over at {self.cutover_position}"
        if self.outcome == FollowOutcome.HANDED_OFF:
            return f"applied up to {self.applied.position}; native apply continues from there"
        return f"stopped at {self.applied.position}"


class FollowGap(Exception):
    """The source handed over changes that do not continue the stored position: some are missing."""


def uncovered(transactions: Sequence[SourceTransaction], applied: AppliedPosition) -> list[SourceTransaction]:
    """`transactions` without what `applied` covers (a chunk applied in part keeps its rest)."""
    out: list[SourceTransaction] = []
    for txn in transactions:
        if txn.position < applied.position or (txn.position == applied.position and applied.complete):
            continue
        if txn.position == applied.position:
            skip = applied.index - txn.first_index
            if skip < 0:
                raise FollowGap(
                    f"the source resumed transaction {txn.position} at change {txn.first_index}, "
                    f"but the target holds only its first {applied.index}"
                )
            if skip >= len(txn.changes):
                continue
            txn = replace(txn, changes=txn.changes[skip:], first_index=applied.index)
        out.append(txn)
    return out


class _Rate:
    """Changes per second over a sliding window."""

    def __init__(self, window: float = 10.0) -> None:
        self.window = window
        self.points: deque[tuple[float, int]] = deque()

    def add(self, now: float, total: int) -> None:
        self.points.append((now, total))
        while len(self.points) > 2 and now - self.points[0][0] > self.window:
            self.points.popleft()

    def per_second(self) -> float:
        if len(self.points) < 2:
            return 0.0
        (t0, n0), (t1, n1) = self.points[0], self.points[-1]
        return (n1 - n0) / (t1 - t0) if t1 > t0 else 0.0


async def _never_stop() -> bool:
    return False


def _ignore(progress: ReplicationProgress) -> None:
    return None


class _OneCallAtATime:
    """The source with its calls made one at a time: the follower reads the next batch while it
    writes this one, and the contract does not promise that a source takes a confirmation or a
    lag query while a read is under way."""

    def __init__(self, source: ChangeSource) -> None:
        self.source = source
        self.kind = source.kind
        self.lock = asyncio.Lock()

    async def read(
        self, after: AppliedPosition, max_changes: int, wait_seconds: float
    ) -> list[SourceTransaction]:
        async with self.lock:
            return await self.source.read(after, max_changes, wait_seconds)

    async def confirm(self, applied: AppliedPosition) -> None:
        async with self.lock:
            await self.source.confirm(applied)

    async def lag(self, applied: AppliedPosition) -> SourceLag:
        async with self.lock:
            return await self.source.lag(applied)

    async def details(self) -> Mapping[str, str]:
        async with self.lock:
            return await self.source.details()


@dataclass
class _Fetched:
    read: list[SourceTransaction]  # as the source handed them over
    batch: list[SourceTransaction]  # those not covered by the position read after
    prepared: PreparedBatch | None


@dataclass
class _Follower:
    source: _OneCallAtATime
    conn: PgConnection
    applier: PgApplier
    uid: str
    record: ReplicationRecord
    source_position: Callable[[], Position]
    before_cutover: Callable[[], object] | None
    report: Callable[[ReplicationProgress], None]
    settings: FollowSettings
    stop_at: Position | None = None  # hand off to native apply once everything up to it is applied

    def __post_init__(self) -> None:
        self.applied = self.record.applied
        self.total = self.record.changes_applied
        self.cutover = self.record.cutover_position
        self.state = FollowState.CUTTING_OVER if self.cutover is not None else FollowState.CATCHING_UP
        self.lag_seconds: float | None = None
        self.rate = _Rate()
        self.last_report = self.next_poll = self.next_details = 0.0
        self.details: dict[str, str] = {}
        self.last_applied_time: str | None = None
        self.empty_reads = 0
        self.pending: asyncio.Task[_Fetched] | None = None  # the next batch, read while this one is written
        self.unconfirmed: AppliedPosition | None = None  # committed on the target, not yet told the source

    async def set_state(self, state: FollowState) -> None:
        if state != self.state:
            self.state = state
            await bookkeeping.set_state(self.conn, self.uid, state)
            await self.emit(force=True)

    async def emit(self, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last_report < self.settings.report_seconds:
            return
        self.last_report = now
        lag = await self.source.lag(self.applied)
        if now >= self.next_details:
            self.next_details = now + self.settings.details_seconds
            self.details.update(await self.source.details())
        self.report(
            ReplicationProgress(
                state=self.state,
                start_position=str(self.record.start),
                source_position=str(lag.current),
                applied_position=str(self.applied.position),
                lag_seconds=self.lag_seconds,
                lag_bytes=lag.bytes_behind,
                changes_applied=self.total,
                changes_per_second=round(self.rate.per_second(), 1),
                last_applied_time=self.last_applied_time,
                cutover_position=None if self.cutover is None else str(self.cutover),
                details=dict(self.details),
            )
        )

    async def poll_cutover(self) -> None:
        """Take the cutover position once a cutover is requested and the lag allows it."""
        now = time.monotonic()
        if self.cutover is not None or now < self.next_poll:
            return
        self.next_poll = now + self.settings.poll_seconds
        record = await bookkeeping.read_async(self.conn, self.uid)
        if record is None or record.cutover_requested_at is None:
            return
        max_lag = record.cutover_max_lag_seconds or 0
        if self.lag_seconds is None or self.lag_seconds > max_lag:
            return
        if self.before_cutover is not None:  # spec.cutover.freezeSource: before the position is taken
            await asyncio.to_thread(self.before_cutover)
        position = await asyncio.to_thread(self.source_position)
        await bookkeeping.set_cutover_position(self.conn, self.uid, position)  # sets CuttingOver too
        self.cutover, self.empty_reads = position, 0
        await self.set_state(FollowState.CUTTING_OVER)

    @property
    def limit(self) -> Position | None:
        """Where this follower ends: the cutover position, or the hand-off's if that comes first."""
        return min((p for p in (self.cutover, self.stop_at) if p is not None), default=None)

    def reached(self) -> bool:
        limit = self.limit
        return limit is not None and self.applied.complete and self.applied.position >= limit

    async def fetch(self, after: AppliedPosition) -> _Fetched:
        read = await self.source.read(after, self.settings.max_changes, self.settings.wait_seconds)
        batch = uncovered(read, after)
        return _Fetched(read, batch, await self.applier.prepare_async(batch) if batch else None)

    async def settle(self) -> None:
        """Wait for a read under way (its batch is dropped: a new stream starts from the confirmed
        position), then tell the source what the target committed."""
        if self.pending is not None:
            pending, self.pending = self.pending, None
            with contextlib.suppress(Exception):  # what was read ahead is not applied: nor is its error
                await pending
        if self.unconfirmed is not None:
            applied, self.unconfirmed = self.unconfirmed, None
            await self.source.confirm(applied)

    async def step(self) -> bool:
        """One read and, when it brought changes, one applied batch. True once the cutover is reached."""
        if self.pending is not None:
            pending, self.pending = self.pending, None
            fetched = await pending
        else:
            fetched = await self.fetch(self.applied)
        await self.settle()  # no read is under way now
        batch, prepared = fetched.batch, fetched.prepared
        if fetched.read and not batch:  # sent again after a restart, applied already: nothing to learn
            await self.source.confirm(self.applied)
            return False
        beyond, limit = False, self.limit
        if limit is not None:
            within = [t for t in batch if t.position <= limit]
            if len(within) < len(batch):
                beyond, batch = True, within
                prepared = self.applier.prepare(within) if within else None
        if not batch or prepared is None:
            self.lag_seconds = 0.0
            self.empty_reads += 1
            if self.state == FollowState.CATCHING_UP:
                await self.set_state(FollowState.FOLLOWING)
            return limit is not None and (beyond or self.empty_reads >= self.settings.drain_reads)
        self.empty_reads = 0
        oldest = next((t.commit_time for t in batch if t.commit_time is not None), None)
        if oldest is not None:
            oldest = oldest if oldest.tzinfo is not None else oldest.replace(tzinfo=UTC)
            self.lag_seconds = max(0.0, (datetime.now(UTC) - oldest).total_seconds())
        if not beyond:  # read and prepare the next batch while the target writes this one
            self.pending = asyncio.create_task(self.fetch(prepared.applied))
        result = await self.applier.write(prepared, self.applied)
        self.applied, self.total = result.applied, self.total + result.changes
        self.unconfirmed = self.applied  # told at the next step, when no read is under way
        self.last_applied_time = datetime.now(UTC).isoformat(timespec="seconds")
        if result.truncated:
            self.details["lastTruncated"] = ", ".join(result.truncated)
        self.rate.add(time.monotonic(), self.total)
        if self.state == FollowState.CATCHING_UP and result.changes < self.settings.max_changes:
            await self.set_state(FollowState.FOLLOWING)  # the source had no more than one read's worth
        return beyond or self.reached()

    async def run(self, should_stop: Callable[[], Awaitable[bool]]) -> FollowResult:
        await bookkeeping.set_state(self.conn, self.uid, self.state)
        self.rate.add(time.monotonic(), self.total)
        await self.emit(force=True)
        while True:
            if await should_stop():
                await self.settle()
                await self.emit(force=True)
                return FollowResult(FollowOutcome.STOPPED, self.applied, self.total, self.cutover)
            await self.poll_cutover()
            try:
                done = self.reached() or await self.step()
            except SourceSchemaChanged as exc:
                await self.settle()
                await bookkeeping.set_state(self.conn, self.uid, self.state, str(exc))
                return FollowResult(FollowOutcome.SCHEMA_CHANGED, self.applied, self.total, self.cutover, exc)
            if done and self.stop_at is not None and (self.cutover is None or self.stop_at < self.cutover):
                await self.settle()
                await self.emit(force=True)
                return FollowResult(FollowOutcome.HANDED_OFF, self.applied, self.total, self.cutover)
            if done:
                await self.settle()
                await bookkeeping.mark_cut_over(self.conn, self.uid)  # sets CutOver too
                await self.set_state(FollowState.CUT_OVER)
                return FollowResult(FollowOutcome.CUT_OVER, self.applied, self.total, self.cutover)
            await self.emit()

    def abandon(self) -> None:
        """On an error: what was read ahead is not awaited (the source is closed after this)."""
        if self.pending is not None:
            self.pending.cancel()


async def follow(
    source: ChangeSource,
    target: PgEndpoint,
    mappings: Sequence[TableMapping],
    *,
    migration_uid: str,
    source_dialect: Dialect,
    secrets: SecretSource | None,
    source_position: Callable[[], Position],
    report: Callable[[ReplicationProgress], None] = _ignore,
    should_stop: Callable[[], Awaitable[bool]] = _never_stop,
    before_cutover: Callable[[], object] | None = None,
    settings: FollowSettings | None = None,
    stop_at: Position | None = None,
) -> FollowResult:
    """Follow `source` (opened after the stored start position) into the target's tables of
    `mappings` until the cutover, a stop or a schema change.

    `source_position`: the source's current position, blocking (`ferry.cdc.capture.
    source_position`; run in a thread). `before_cutover`: blocking, run just before that position
    is taken (freezing the source). `should_stop` is awaited between batches. `stop_at`: return
    HANDED_OFF once every change up to it is applied (native apply takes over from there). The migration's
    start must be recorded on the target (`bookkeeping.record_start`); raises NotStarted if not.
    Errors other than a source schema change (a lost connection, a row the target refuses)
    propagate: the target holds every batch committed before, and a rerun resumes after them.
    """
    conn = await open_pg(target)
    try:
        record = await bookkeeping.read_async(conn, migration_uid)
        if record is None:
            raise bookkeeping.NotStarted(f"no online migration {migration_uid} is recorded on the target")
        if record.cutover_reached_at is not None:
            return FollowResult(
                FollowOutcome.CUT_OVER, record.applied, record.changes_applied, record.cutover_position
            )
        applier = await PgApplier.open(conn, migration_uid, mappings, source_dialect, secrets)
        follower = _Follower(
            _OneCallAtATime(source), conn, applier, migration_uid, record, source_position, before_cutover,
            report, settings or FollowSettings(), stop_at,
        )  # fmt: skip
        try:
            return await follower.run(should_stop)
        except BaseException:
            follower.abandon()
            raise
    finally:
        await conn.close()
