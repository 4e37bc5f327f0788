"""What the follower reports while it runs: status.replication in the cluster, the live line of
`ferry run` locally."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class FollowState(StrEnum):
    CATCHING_UP = "CatchingUp"  # applying what was committed during the copy
    FOLLOWING = "Following"  # caught up once; applying as the source commits
    CUTTING_OVER = "CuttingOver"  # a cutover position is set; applying up to it
    CUT_OVER = "CutOver"  # everything up to the cutover position is applied; the follower ends


@dataclass(frozen=True)
class ReplicationProgress:
    state: FollowState
    start_position: str
    source_position: str
    applied_position: str
    lag_seconds: float | None  # now minus the commit time of the oldest unapplied change; 0 when caught up
    lag_bytes: int | None
    # Since the start position, across restarts (kept on the target). None under native apply:
    # PostgreSQL's apply worker counts no rows (docs/online.md), and Ferry does not guess.
    changes_applied: int | None
    changes_per_second: float | None
    last_applied_time: str | None  # RFC 3339, the target commit of the last batch
    cutover_position: str | None = None
    # Slot name, wal_status, safe_wal_size; or binlog file and server id.
    details: Mapping[str, str] = field(default_factory=dict)
    apply_method: str = "ferry"  # ferry | native (ferry.cdc.native_apply)
    apply_method_reason: str | None = None  # why `auto` chose ferry
