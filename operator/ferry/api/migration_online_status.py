"""The online-mode parts of a Migration's status: the change stream (`status.replication`) and
the cutover (`status.cutover`), re-exported by ferry.api.migration_status."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from ferry.api.base import StatusModel
from ferry.api.worker_figures import WorkerSessions


class ReplicationState(StrEnum):
    """`status.replication.state`: the follower's own states (ferry.cdc.progress.FollowState)
    and how it ended when it did not reach the cutover."""

    CATCHING_UP = "CatchingUp"
    FOLLOWING = "Following"
    CUTTING_OVER = "CuttingOver"
    CUT_OVER = "CutOver"
    SOURCE_SCHEMA_CHANGED = "SourceSchemaChanged"  # exit code 3; `message` names table and change
    NATIVE_APPLY_UNAVAILABLE = "NativeApplyUnavailable"  # exit code 4; `message` says why
    STOPPED = "Stopped"  # SIGTERM (suspend, drain); the next pod resumes from the stored position
    FAILED = "Failed"


class ReplicationStatus(StatusModel):
    """Online mode: the change stream from the source to the target.

    Two writers, each merge-patching only its own keys: the operator writes `startPosition`
    (when it opens the capture) and `healthCheckedAt`; the follower pod writes everything else
    (at most every 2 s, like the copy workers' `status.workers`).
    """

    start_position: str | None = Field(
        default=None, description="Where the capture started, before the first row was copied."
    )
    health_checked_at: str | None = Field(
        default=None, description="When the operator last checked the capture on the source."
    )
    state: str | None = Field(
        default=None,
        description="CatchingUp, Following, CuttingOver, CutOver; SourceSchemaChanged, Stopped or Failed "
        "when the follower ended without reaching the cutover.",
    )
    message: str | None = Field(default=None, description="What the follower is doing, or why it stopped.")
    source_position: str | None = Field(
        default=None, description="The source's latest change position (LSN, binlog)."
    )
    applied_position: str | None = Field(
        default=None, description="The last change position applied to the target."
    )
    cutover_position: str | None = Field(default=None, description="The position the cutover applies up to.")
    lag_seconds: float | None = Field(
        default=None, description="Now minus the source commit time of the oldest change not applied."
    )
    lag_bytes: int | None = Field(default=None, description="Change history not applied yet, where known.")
    changes_applied: int | None = Field(
        default=None,
        description="Rows inserted, updated or deleted on the target; unset under native apply, "
        "where PostgreSQL does not count them (docs/online.md).",
    )
    changes_per_second: float | None = Field(
        default=None, description="Changes applied per second, recently."
    )
    last_applied_time: str | None = Field(
        default=None, description="When a change was last applied (RFC 3339)."
    )
    apply_method: str | None = Field(
        default=None,
        description="Who applies the changes: ferry (Ferry's applier) or native (a PostgreSQL subscription "
        "on the target that Ferry orchestrates).",
    )
    apply_method_reason: str | None = Field(
        default=None, description="Why spec.online.apply: auto chose ferry (what made native ineligible)."
    )
    details: dict[str, str] = Field(
        default_factory=dict,
        description="The capture on the source: slot name, wal_status, safe_wal_size, or binlog file ...",
    )
    updated_at: str | None = Field(default=None, description="When the follower last reported (RFC 3339).")
    pod: str | None = Field(
        default=None, description="The follower pod that wrote this report (a retry is a new pod)."
    )
    cpu_seconds: float | None = Field(
        default=None, description="CPU time (user + system) of the follower pod's process."
    )
    sessions: WorkerSessions | None = Field(
        default=None,
        description="The database sessions the follower holds now (its change stream and control "
        "connection on the source, its applier on the target) and its reconnects.",
    )


class CutoverStatus(StatusModel):
    """Online mode: when the switch to the target was asked for, where it applied up to, how long it took."""

    requested_at: str | None = Field(
        default=None, description="When the operator saw spec.cutover.requested."
    )
    started_at: str | None = Field(default=None, description="When the follower set the cutover position.")
    position: str | None = Field(default=None, description="The source position applied up to.")
    completed_at: str | None = Field(default=None, description="When the cutover finished (RFC 3339).")
    duration_seconds: float | None = Field(default=None, description="From requestedAt to completedAt.")
