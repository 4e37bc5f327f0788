"""Where an online migration stands, kept on the PostgreSQL target: ferry."_ferry_replication".

One row per migration UID holds the capture's start position, the applied position (moved in
the same transaction as the rows it covers, by `ferry.cdc.apply_pg`: the exactly-once
guarantee), the cutover request and how it ended. The target is where the follower works, so
the cutover request travels through it too: `ferry cutover` (or the operator) writes the
request, the running follower sees it on its next poll, and the outcome comes back the same way.

Sync functions for the CLI and the operator (SQLAlchemy through `engine_for`), async ones for
the follower's asyncpg connection.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

import sqlalchemy

from ferry.cdc import bookkeeping_sql as sql
from ferry.cdc.changes import AppliedPosition, Position
from ferry.cdc.progress import FollowState
from ferry.copy.endpoints import PgConnection
from ferry.services.planning import Side, engine_for


class Outcome(StrEnum):
    """How a migration ended after its cutover (written by whoever completes it)."""

    SUCCEEDED = "Succeeded"
    FAILED = "Failed"


class NotStarted(LookupError):
    """No online migration with this UID has recorded its start on the target."""


@dataclass(frozen=True)
class ReplicationRecord:
    migration_uid: str
    start: Position
    applied: AppliedPosition
    changes_applied: int
    last_commit_time: datetime | None
    updated_at: datetime
    cutover_requested_at: datetime | None
    cutover_max_lag_seconds: int | None
    cutover_position: Position | None
    cutover_reached_at: datetime | None
    state: str  # a FollowState, or an Outcome once the migration ended
    message: str
    # A source position after the initial copy's last read (ferry.cdc.native_follower): from
    # there on, the target equals the source once replayed, and a plain (native) apply is exact.
    copy_end: Position | None = None

    @property
    def ended(self) -> bool:
        return self.state in (Outcome.SUCCEEDED, Outcome.FAILED)


def _record(uid: str, row: Any) -> ReplicationRecord:
    """From a SQLAlchemy row mapping or an asyncpg record: both index by column name."""
    cutover = None
    if row["cutover_major"] is not None:
        cutover = Position(row["cutover_major"], row["cutover_minor"], row["cutover_text"])
    copy_end = None
    if row["copy_end_major"] is not None:
        copy_end = Position(row["copy_end_major"], row["copy_end_minor"], row["copy_end_text"])
    return ReplicationRecord(
        migration_uid=uid,
        start=Position(row["start_major"], row["start_minor"], row["start_text"]),
        applied=AppliedPosition(
            Position(row["applied_major"], row["applied_minor"], row["applied_text"]),
            row["applied_index"],
            row["applied_complete"],
        ),
        changes_applied=row["changes_applied"],
        last_commit_time=row["last_commit_time"],
        updated_at=row["updated_at"],
        cutover_requested_at=row["cutover_requested_at"],
        cutover_max_lag_seconds=row["cutover_max_lag_seconds"],
        cutover_position=cutover,
        cutover_reached_at=row["cutover_reached_at"],
        state=row["state"],
        message=row["message"],
        copy_end=copy_end,
    )


# --- sync: the CLI and the operator ---


def _ensure_table(conn: sqlalchemy.Connection) -> None:
    conn.exec_driver_sql(sql.CREATE_LOCK)
    for statement in sql.CREATE:
        conn.exec_driver_sql(statement)


def record_start(target: Side, migration_uid: str, start: Position) -> ReplicationRecord:
    """The capture's start position, recorded once: a row that exists already is kept as it is
    (a rerun resumes from its applied position, never from a newer start). Returns the row."""
    with engine_for(target) as engine, engine.begin() as conn:
        _ensure_table(conn)
        conn.execute(
            sqlalchemy.text(sql.RECORD_START),
            {"uid": migration_uid, "text": str(start), "major": start.major, "minor": start.minor},
        )
        row = conn.execute(sqlalchemy.text(sql.READ), {"uid": migration_uid}).mappings().one()
    return _record(migration_uid, row)


def read(target: Side, migration_uid: str) -> ReplicationRecord | None:
    """The migration's row, or None when it never started following (or the table is absent)."""
    with engine_for(target) as engine, engine.connect() as conn:
        if not conn.execute(sqlalchemy.text(sql.TABLE_EXISTS), {"table": sql.TABLE}).scalar_one():
            return None
        row = conn.execute(sqlalchemy.text(sql.READ), {"uid": migration_uid}).mappings().one_or_none()
    return None if row is None else _record(migration_uid, row)


def request_cutover(target: Side, migration_uid: str, max_lag_seconds: int) -> ReplicationRecord:
    """Ask the follower to cut over once its lag is at most `max_lag_seconds`. Idempotent: the
    first request's time is kept. Raises NotStarted when the migration has no row."""
    with engine_for(target) as engine, engine.begin() as conn:
        if conn.execute(sqlalchemy.text(sql.TABLE_EXISTS), {"table": sql.TABLE}).scalar_one():
            conn.execute(
                sqlalchemy.text(sql.REQUEST_CUTOVER), {"uid": migration_uid, "max_lag": max_lag_seconds}
            )
            row = conn.execute(sqlalchemy.text(sql.READ), {"uid": migration_uid}).mappings().one_or_none()
            if row is not None:
                return _record(migration_uid, row)
    raise NotStarted(f"no online migration {migration_uid} is recorded on the target")


def record_outcome(
    target: Side, migration_uid: str, outcome: Outcome | FollowState, message: str = ""
) -> None:
    """How the migration ended after its cutover (`ferry cutover` waits for this), or the state it
    is back in when a rerun picks it up again (CutOver while the target is being completed)."""
    with engine_for(target) as engine, engine.begin() as conn:
        conn.execute(
            sqlalchemy.text(sql.RECORD_OUTCOME),
            {"uid": migration_uid, "state": str(outcome), "message": message},
        )


def record_copy_end(target: Side, migration_uid: str, position: Position) -> None:
    """The initial copy has read everything (its Job completed): `position`, taken after that, is
    where a non-idempotent apply may start. Kept once. A row that does not exist is left alone."""
    with engine_for(target) as engine, engine.begin() as conn:
        _ensure_table(conn)
        params = {
            "uid": migration_uid,
            "text": str(position),
            "major": position.major,
            "minor": position.minor,
        }
        conn.execute(sqlalchemy.text(sql.RECORD_COPY_END), params)


def forget(target: Side, migration_uid: str) -> None:
    """Drop the migration's row (rollback, delete): a new run starts a new capture and copy."""
    with engine_for(target) as engine, engine.begin() as conn:
        if conn.execute(sqlalchemy.text(sql.TABLE_EXISTS), {"table": sql.TABLE}).scalar_one():
            conn.execute(sqlalchemy.text(sql.FORGET), {"uid": migration_uid})


# --- async: the follower, on its own connection ---


async def read_async(conn: PgConnection, migration_uid: str) -> ReplicationRecord | None:
    row = await conn.fetchrow(sql.READ_ASYNC, migration_uid)
    return None if row is None else _record(migration_uid, row)


def _utc(moment: datetime | None) -> datetime | None:
    # A source that hands naive commit times means UTC (the copy's sessions run in UTC too).
    return moment.replace(tzinfo=UTC) if moment is not None and moment.tzinfo is None else moment


async def advance(
    conn: PgConnection,
    migration_uid: str,
    expected: AppliedPosition,
    applied: AppliedPosition,
    changes: int,
    last_commit_time: datetime | None,
) -> bool:
    """Move the applied position inside the caller's transaction; False when the stored position
    is not `expected` (another follower moved it): the caller must roll back."""
    status = await conn.execute(
        sql.ADVANCE,
        migration_uid,
        str(applied.position),
        applied.position.major,
        applied.position.minor,
        applied.index,
        applied.complete,
        changes,
        _utc(last_commit_time),
        expected.position.major,
        expected.position.minor,
        expected.index,
        expected.complete,
    )
    return status == "UPDATE 1"


async def set_native_applied(conn: PgConnection, migration_uid: str, applied: Position) -> None:
    """Native apply: mirror the subscription's applied position (forward only)."""
    await conn.execute(sql.SET_NATIVE_APPLIED, migration_uid, str(applied), applied.major, applied.minor)


async def set_copy_end(conn: PgConnection, migration_uid: str, position: Position) -> None:
    await conn.execute(sql.SET_COPY_END_ASYNC, migration_uid, str(position), position.major, position.minor)


async def set_state(conn: PgConnection, migration_uid: str, state: FollowState, message: str = "") -> None:
    await conn.execute(sql.SET_STATE, migration_uid, str(state), message)


async def set_cutover_position(conn: PgConnection, migration_uid: str, position: Position) -> None:
    """Store where the cutover ends (once: a position stored already is kept) and enter CuttingOver."""
    await conn.execute(
        sql.SET_CUTOVER_POSITION,
        migration_uid,
        str(position),
        position.major,
        position.minor,
        str(FollowState.CUTTING_OVER),
    )


async def mark_cut_over(conn: PgConnection, migration_uid: str) -> None:
    await conn.execute(sql.MARK_CUT_OVER, migration_uid, str(FollowState.CUT_OVER))
