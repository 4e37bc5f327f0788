"""Follow an online migration with the apply method its spec asks for (`spec.online.apply`).

    ferry:  Ferry's follower (ferry.cdc.follower) from the stored position to the cutover.
    native: Ferry's follower up to the copy's end, then PostgreSQL's subscription
            (ferry.cdc.native_follower) to the cutover.
    auto:   native when eligible (ferry.cdc.native_apply), else ferry, with the reason reported.

Why Ferry's applier still applies what was committed during the copy: the copy reads the live
tables after the capture's start, so the changes up to the copy's end overlap rows it read
already, and only an idempotent apply converges there (an insert of a row the copy read is an
upsert for Ferry; PostgreSQL's apply worker would fail on its duplicate key). Past a position
taken after the copy's last read (`ReplicationRecord.copy_end`), the target holds exactly the
source's rows as of that position once Ferry applied up to it, and a plain replay is exact.

The hand-off, each step safe to repeat after a crash:
1. Ferry's follower applies up to max(copy end, its stored position) and stops there (HANDED_OFF).
2. The slot is moved to Ferry's applied position, if a crash left it behind.
3. CREATE SUBSCRIPTION (disabled; proves that the target reaches the source), then enable it: it
   streams from the slot's position, so nothing Ferry applied comes again.
A subscription that exists is adopted as it is: its replication origin holds where it got (the
origin advances in the same target transaction as each applied source transaction, which makes
native apply exactly-once across crashes of the follower and of either server).

`sessions`, the follower's ledger (ferry.copy.sessions), gets every session held while following:
the change stream's on the source, and native apply's connections to both sides. The caller
wraps `target_endpoint` with it for the applier's target session.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import replace

from ferry.api.migration import ApplyMethod
from ferry.cdc import bookkeeping, native_apply
from ferry.cdc.changes import Position
from ferry.cdc.follower import FollowOutcome, FollowResult, FollowSettings, follow
from ferry.cdc.native_apply import NativeApplyUnavailable
from ferry.cdc.native_follower import NativeFollower, NativeSettings
from ferry.cdc.progress import ReplicationProgress
from ferry.copy.endpoints import PgEndpoint, open_pg
from ferry.copy.sessions import SessionLedger
from ferry.copy.sql import Dialect
from ferry.db.credentials import SecretSource
from ferry.schema.mapping import TableMapping
from ferry.services.planning import Side

Report = Callable[[ReplicationProgress], None]


async def follow_online(
    source: Side,
    target: Side,
    target_endpoint: PgEndpoint,
    mappings: Sequence[TableMapping],
    *,
    migration_uid: str,
    method: ApplyMethod,
    source_dialect: Dialect,
    secrets: SecretSource | None,
    source_position: Callable[[], Position],
    report: Report,
    should_stop: Callable[[], Awaitable[bool]],
    before_cutover: Callable[[], object] | None = None,
    settings: FollowSettings | None = None,
    native_settings: NativeSettings | None = None,
    sessions: SessionLedger | None = None,
) -> FollowResult:
    """Follow until the cutover, a stop or a source schema change, with the method `method` picks.
    Raises NativeApplyUnavailable when `native` was asked for and cannot run (the message says why)."""

    async def ferry(
        reason: str | None, stop_at: Position | None = None, label: str = "ferry"
    ) -> FollowResult:
        from ferry.cdc.capture import open_change_source

        record = bookkeeping.read(target, migration_uid)
        if record is None:
            raise bookkeeping.NotStarted(f"no online migration {migration_uid} is recorded on the target")
        changes = await open_change_source(source, mappings, migration_uid, record.start, sessions)
        try:
            return await follow(
                changes, target_endpoint, mappings, migration_uid=migration_uid,
                source_dialect=source_dialect,
                secrets=secrets, source_position=source_position, should_stop=should_stop,
                before_cutover=before_cutover, settings=settings, stop_at=stop_at,
                report=lambda p: report(replace(p, apply_method=label, apply_method_reason=reason)),
            )  # fmt: skip
        finally:
            await changes.close()

    def refuse(reason: str) -> None:
        if method == ApplyMethod.NATIVE:
            raise NativeApplyUnavailable(f"spec.online.apply is native, but {reason}")

    if method == ApplyMethod.FERRY:
        return await ferry(None)
    reason = native_apply.static_ineligibility(source, target, mappings)
    if reason is not None:
        refuse(reason)
        return await ferry(reason)
    settings_, ledger = native_settings or NativeSettings(), sessions or SessionLedger()
    return await _native(source, target, mappings, migration_uid, source_position, ferry, refuse,
                         report, should_stop, before_cutover, settings_, ledger)  # fmt: skip


async def _native(
    source: Side,
    target: Side,
    mappings: Sequence[TableMapping],
    uid: str,
    source_position: Callable[[], Position],
    ferry: Callable[..., Awaitable[FollowResult]],
    refuse: Callable[[str], None],
    report: Report,
    should_stop: Callable[[], Awaitable[bool]],
    before_cutover: Callable[[], object] | None,
    settings: NativeSettings,
    sessions: SessionLedger,
) -> FollowResult:
    name = native_apply.subscription_name(uid)
    src = sessions.track("source", await native_apply.connect(source))
    tgt = sessions.track("target", await native_apply.connect(target))
    try:
        record = bookkeeping.read(target, uid)
        if record is None:
            raise bookkeeping.NotStarted(f"no online migration {uid} is recorded on the target")
        if await native_apply.find(tgt, name) is None:
            if record.cutover_reached_at is not None:
                return FollowResult(FollowOutcome.CUT_OVER, record.applied, record.changes_applied,
                                    record.cutover_position)  # fmt: skip
            reason = await native_apply.target_ineligibility(tgt, src, mappings, name)
            if reason is not None:
                refuse(reason)
                await _close(src, tgt)  # not held idle while Ferry's applier follows to the end
                return await ferry(reason)
            copy_end = record.copy_end
            if copy_end is None:  # a capture recorded before copy ends were: now is after the copy
                copy_end = source_position()
                bookkeeping.record_copy_end(target, uid, copy_end)
            stop_at = max(copy_end, record.applied.position)  # a transaction applied in part: its rest too
            if not record.applied.complete or record.applied.position < stop_at:
                handed = await ferry("catching up the changes made during the copy", stop_at, "native")
                if handed.outcome != FollowOutcome.HANDED_OFF:
                    return handed
                record = bookkeeping.read(target, uid) or record
            if not record.applied.complete:
                raise RuntimeError(
                    "Ferry's applier stopped inside a transaction before the hand-off; retrying"
                )
            await native_apply.align_slot(src, name, record.applied.position.major)
            try:
                await native_apply.create(tgt, source, uid)
            except NativeApplyUnavailable as error:
                refuse(str(error))
                await _close(src, tgt)
                return await ferry(str(error))
        elif record.cutover_reached_at is not None:  # killed between the cutover mark and the drop
            await native_apply.drop(tgt, name)
            return FollowResult(FollowOutcome.CUT_OVER, record.applied, record.changes_applied,
                                record.cutover_position)  # fmt: skip
        book = sessions.track("target", await open_pg(_endpoint(target)))
        try:
            follower = NativeFollower(
                src, tgt, book, migration_uid=uid, mappings=mappings, record=record,
                source_position=source_position, before_cutover=before_cutover, report=report,
                settings=settings,
            )  # fmt: skip
            return await follower.run(should_stop)
        finally:
            await book.close()
    finally:
        await _close(src, tgt)


async def _close(*conns: native_apply.Conn) -> None:
    """Close native apply's sessions (closing one that is closed already does nothing)."""
    for conn in conns:
        await conn.close()


def _endpoint(target: Side) -> PgEndpoint:
    from ferry.services.endpoints import endpoint_for

    endpoint = endpoint_for(target)
    assert isinstance(endpoint, PgEndpoint)
    return endpoint
