"""The native follower: PostgreSQL's subscription applies, Ferry watches, measures and cuts over.

The subscription (`ferry.cdc.native_apply`) exists and Ferry's applier has handed off (see
`ferry.cdc.online_follow`). This loop, about twice a second:

- samples the source's position and the subscription's applied position (its replication origin,
  and the position its apply worker acknowledged), for `status.replication`: lag in bytes, and in
  seconds as "how long ago the source was where the target is now" (the latest sample at or
  below the applied position; exact to the sampling interval). Rows applied are not counted:
  PostgreSQL's apply worker keeps no count of them, so `changesApplied` stays unset;
- compares the followed tables' columns on the source with those recorded when the capture
  started (the publication's comment, `ferry.cdc.pg_capture`) every `schema_seconds`, and at once
  when the subscription reports an apply error: a changed table ends the follower with
  SourceSchemaChanged, the subscription disabled; any other apply error (the subscription runs
  with disable_on_error) is an error of the follower, retried by a new pod;
- takes the cutover like Ferry's follower (`ferry.cdc.follower`): once requested and the lag is at
  most the maximum, the source's position P is stored; once the subscription applied through P
  it is disabled (its worker stops between transactions), the applied position is stored with
  the cutover mark, and the subscription is detached from the slot and dropped. The slot and the
  publication stay for the operator's drop, as after Ferry's follower.

A stop (SIGTERM: suspend, eviction) disables the subscription and keeps the slot. A follower
killed outright leaves the subscription applying; the next one adopts it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import psycopg
from psycopg.rows import dict_row

from ferry.cdc import bookkeeping, native_apply
from ferry.cdc import pg_capture_sql as capture_q
from ferry.cdc.changes import AppliedPosition, Position, SourceSchemaChanged
from ferry.cdc.follower import FollowOutcome, FollowResult
from ferry.cdc.native_apply import Conn, NativeApplyUnavailable, Subscription
from ferry.cdc.pg_change_source import slot_details
from ferry.cdc.pg_transactions import CatalogColumn, column_differences, position
from ferry.cdc.pgoutput import parse_lsn
from ferry.cdc.progress import FollowState, ReplicationProgress
from ferry.copy.endpoints import PgConnection
from ferry.schema.mapping import TableMapping

# A non-transactional logical message written after the cutover position: WAL past it that the
# subscription's sender reads through and acknowledges, even when the source is otherwise idle.
NUDGE = "SELECT pg_logical_emit_message(false, 'ferry', 'cutover')"


@dataclass(frozen=True)
class NativeSettings:
    poll_seconds: float = 0.5
    report_seconds: float = 1.0
    schema_seconds: float = 5.0  # how often the source's tables are compared with the capture's record
    details_seconds: float = 10.0


async def schema_change(
    source: Conn, mappings: Sequence[TableMapping], publication: str
) -> SourceSchemaChanged | None:
    """The first followed table whose published columns differ from those at the capture's start."""
    from ferry.cdc.pg_capture import parse_columns  # the capture's engine module loads on first use

    params = {"schemas": [m.source_schema for m in mappings], "names": [m.source_table for m in mappings]}
    async with source.cursor(row_factory=dict_row) as cur:
        pub = await (await cur.execute(capture_q.PUBLICATION, {"name": publication})).fetchone()
        tables = await (await cur.execute(capture_q.TABLES, params)).fetchall()
        oids = [t["oid"] for t in tables if t["oid"] is not None]
        rows = await (await cur.execute(capture_q.COLUMNS, {"oids": oids})).fetchall()
    baseline = parse_columns(pub["baseline"] if pub else None) or {}
    now: dict[int, list[CatalogColumn]] = {}
    for r in rows:
        now.setdefault(r["oid"], []).append(CatalogColumn(r["name"], r["type_oid"], r["atttypmod"]))
    for mapping, table in zip(mappings, tables, strict=True):
        if table["oid"] is None:
            return SourceSchemaChanged(mapping.qualified_source, "table dropped or renamed")
        before = baseline.get(table["oid"])
        current = tuple(now.get(table["oid"], ()))
        if before is not None and current != before:
            return SourceSchemaChanged(mapping.qualified_source, column_differences(before, current))
    return None


class LagClock:
    """Lag in seconds from samples of the source's position: how long ago the source was last at
    or below the applied position."""

    def __init__(self) -> None:
        self.samples: deque[tuple[float, int]] = deque()

    def seconds(self, now: float, current: int, applied: int) -> float:
        self.samples.append((now, current))
        if applied >= current:
            self.samples.clear()
            self.samples.append((now, current))
            return 0.0
        while len(self.samples) >= 2 and self.samples[1][1] <= applied:
            self.samples.popleft()
        return max(0.0, now - self.samples[0][0])


class NativeFollower:
    def __init__(
        self,
        source: Conn,
        target: Conn,
        book: PgConnection,
        *,
        migration_uid: str,
        mappings: Sequence[TableMapping],
        record: bookkeeping.ReplicationRecord,
        source_position: Callable[[], Position],
        before_cutover: Callable[[], object] | None,
        report: Callable[[ReplicationProgress], None],
        settings: NativeSettings,
    ) -> None:
        self.source, self.target, self.book = source, target, book
        self.uid, self.mappings, self.record = migration_uid, mappings, record
        self.name = native_apply.subscription_name(migration_uid)
        self.source_position, self.before_cutover, self.report = source_position, before_cutover, report
        self.settings = settings
        self.cutover = record.cutover_position
        self.state = FollowState.CATCHING_UP
        if self.cutover is not None:
            self.state = FollowState.CUTTING_OVER
        elif record.state == FollowState.FOLLOWING:  # caught up once already (before the hand-off)
            self.state = FollowState.FOLLOWING
        self.lag = LagClock()
        self.lag_seconds: float | None = None
        self.lag_bytes: int | None = None
        self.current = 0
        self.applied = record.applied.position.major
        self.errors_seen = 0
        self.details: dict[str, str] = {}
        self.caught_up_at: int | None = None  # the source position to reach before Following
        self.last_report = self.next_schema = self.next_details = self.next_poll = 0.0

    async def run(self, should_stop: Callable[[], Awaitable[bool]]) -> FollowResult:
        changed = await schema_change(self.source, self.mappings, self.name)
        if changed is not None:
            return await self.schema_changed(changed)
        sub = await self.subscription()
        self.errors_seen = sub.apply_error_count
        if not sub.enabled:
            await native_apply.enable(self.target, self.name)
        await bookkeeping.set_state(self.book, self.uid, self.state)
        while True:
            if await should_stop():
                await native_apply.disable(self.target, self.name)
                await self.emit(await self.subscription(), force=True)
                return self.result(FollowOutcome.STOPPED)
            sub = await self.subscription()
            now = time.monotonic()
            if sub.apply_error_count > self.errors_seen or now >= self.next_schema or not sub.enabled:
                self.next_schema = now + self.settings.schema_seconds
                changed = await schema_change(self.source, self.mappings, self.name)
                if changed is not None:
                    return await self.schema_changed(changed)
                if not sub.enabled:  # disable_on_error: the apply worker stopped on a change
                    # An error like any other of a follower (exit 1): the Job retries, and the next pod
                    # enables the subscription again, which retries the change.
                    raise RuntimeError(
                        f"the subscription {self.name} stopped on an apply error ({sub.apply_error_count} so "
                        "far): the target server's log names the table and the error"
                    )
            await self.measure(sub)
            await self.poll_cutover()
            if self.cutover is not None and sub.applied_lsn >= self.cutover.major:
                return await self.finish(sub)
            await self.emit(sub)
            await asyncio.sleep(self.settings.poll_seconds)

    async def subscription(self) -> Subscription:
        sub = await native_apply.find(self.target, self.name)
        if sub is None:
            raise NativeApplyUnavailable(
                f"the subscription {self.name} is gone from the target (dropped outside Ferry): the "
                "migration "
                "has to start over"
            )
        return sub

    async def measure(self, sub: Subscription) -> None:
        row = await (await self.source.execute(capture_q.CURRENT_LSN)).fetchone()
        assert row is not None
        self.current = parse_lsn(row[0])
        self.applied = max(self.applied, sub.applied_lsn)
        self.lag_bytes = max(0, self.current - self.applied)
        self.lag_seconds = self.lag.seconds(time.monotonic(), self.current, self.applied)
        if self.state == FollowState.CATCHING_UP:
            if self.caught_up_at is None:
                self.caught_up_at = self.current  # what was committed before native apply started
            elif self.applied >= self.caught_up_at:
                await self.set_state(FollowState.FOLLOWING)

    async def poll_cutover(self) -> None:
        now = time.monotonic()
        if self.cutover is not None or now < self.next_poll:
            return
        self.next_poll = now + 1.0
        record = await bookkeeping.read_async(self.book, self.uid)
        if record is None or record.cutover_requested_at is None:
            return
        if self.lag_seconds is None or self.lag_seconds > (record.cutover_max_lag_seconds or 0):
            return
        if self.before_cutover is not None:
            await asyncio.to_thread(self.before_cutover)
        taken = await asyncio.to_thread(self.source_position)
        await bookkeeping.set_cutover_position(self.book, self.uid, taken)  # kept if one was stored
        stored = await bookkeeping.read_async(self.book, self.uid)
        self.cutover = stored.cutover_position if stored is not None else taken
        with contextlib.suppress(psycopg.Error):  # not permitted: the source's own WAL moves it later
            await self.source.execute(NUDGE)
        await self.set_state(FollowState.CUTTING_OVER)

    async def finish(self, sub: Subscription) -> FollowResult:
        """Applied through the cutover position: stop the worker, store where it got, drop it."""
        applied = max(self.applied, sub.applied_lsn)
        stopped = await native_apply.disable(self.target, self.name)
        if stopped is not None:
            applied = max(applied, stopped.origin_lsn or 0)
        self.applied = applied
        await bookkeeping.set_native_applied(self.book, self.uid, position(applied))
        await bookkeeping.mark_cut_over(self.book, self.uid)  # a restart from here only drops it
        await native_apply.drop(self.target, self.name)
        await self.set_state(FollowState.CUT_OVER, None)
        return self.result(FollowOutcome.CUT_OVER)

    async def schema_changed(self, change: SourceSchemaChanged) -> FollowResult:
        with contextlib.suppress(NativeApplyUnavailable):  # stopped or not, the outcome is the change
            await native_apply.disable(self.target, self.name)
        await bookkeeping.set_state(self.book, self.uid, self.state, str(change))
        return self.result(FollowOutcome.SCHEMA_CHANGED, change)

    def result(self, outcome: FollowOutcome, change: SourceSchemaChanged | None = None) -> FollowResult:
        applied = AppliedPosition(position(self.applied))
        return FollowResult(outcome, applied, self.record.changes_applied, self.cutover, change)

    async def set_state(self, state: FollowState, sub: Subscription | None = None) -> None:
        if state != self.state:
            self.state = state
            await bookkeeping.set_state(self.book, self.uid, state)
            await self.emit(sub, force=True)

    async def emit(self, sub: Subscription | None, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self.last_report < self.settings.report_seconds:
            return
        self.last_report = now
        await bookkeeping.set_native_applied(self.book, self.uid, position(self.applied))
        if now >= self.next_details:
            self.next_details = now + self.settings.details_seconds
            async with self.source.cursor(row_factory=dict_row) as cur:
                slot = await (await cur.execute(capture_q.SLOT, {"slot": self.name})).fetchone()
            self.details = slot_details(self.name, self.name, slot)
        details = {**self.details, **native_apply.subscription_details(self.name, sub)}
        self.report(
            ReplicationProgress(
                state=self.state,
                start_position=str(self.record.start),
                source_position=str(position(self.current)) if self.current else "",
                applied_position=str(position(self.applied)),
                lag_seconds=self.lag_seconds,
                lag_bytes=self.lag_bytes,
                changes_applied=None,
                changes_per_second=None,
                last_applied_time=None,
                cutover_position=None if self.cutover is None else str(self.cutover),
                details=details,
                apply_method="native",
            )
        )
