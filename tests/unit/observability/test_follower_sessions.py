"""The online follower's sessions in the per-connection series: its report (`status.replication`)
counts while the Migration follows and the report is fresh and says it follows; its reconnects
count like a copy worker's, never twice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prometheus_client import REGISTRY

from ferry.api.base import rfc3339
from ferry.api.migration import (
    JobKind,
    MigrationStatus,
    Phase,
    ReplicationStatus,
    WorkerSessions,
    WorkerState,
    WorkerStatus,
)
from ferry.observability.metrics import forget_migration, record_connection_use
from ferry.observability.worker_sessions import ReconnectTally, held_sessions

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def _follower(
    source: int = 1, target: int = 1, *, state: str = "Following", age: float = 1.0,
    reconnects: tuple[int, int] = (0, 0), pod: str | None = "m-follow-1-x", at: datetime = NOW,
) -> ReplicationStatus:  # fmt: skip
    sessions = WorkerSessions(
        source=source, target=target, source_reconnects=reconnects[0], target_reconnects=reconnects[1]
    )
    return ReplicationStatus(
        state=state, sessions=sessions, pod=pod, updated_at=rfc3339(at - timedelta(seconds=age))
    )


def _status(phase: Phase, follower: ReplicationStatus | None, **extra: object) -> MigrationStatus:
    return MigrationStatus.model_validate({"phase": phase, "replication": follower, **extra})


def test_a_fresh_following_report_counts_while_following_or_cutting_over() -> None:
    for phase in (Phase.FOLLOWING, Phase.CUTTING_OVER):
        assert held_sessions(_status(phase, _follower(2, 1)), NOW) == {"source": 2, "target": 1}
    for state in ("CatchingUp", "CuttingOver"):
        assert held_sessions(_status(Phase.FOLLOWING, _follower(state=state)), NOW) == {
            "source": 1,
            "target": 1,
        }


def test_a_stale_report_or_one_of_how_the_follower_ended_holds_nothing() -> None:
    nothing = {"source": 0, "target": 0}
    assert held_sessions(_status(Phase.FOLLOWING, _follower(age=120.0)), NOW) == nothing  # pod gone
    for ended in ("CutOver", "Failed", "Stopped", "SourceSchemaChanged"):
        assert held_sessions(_status(Phase.FOLLOWING, _follower(state=ended)), NOW) == nothing
    no_sessions = ReplicationStatus(state="Following", updated_at=rfc3339(NOW))  # an older follower image
    assert held_sessions(_status(Phase.FOLLOWING, no_sessions), NOW) == nothing
    assert held_sessions(_status(Phase.FOLLOWING, None), NOW) == nothing


def test_the_follower_counts_only_in_the_phases_it_runs_in() -> None:
    nothing = {"source": 0, "target": 0}
    # Validating (after the cutover) and Running (the copy): its last report no longer counts.
    assert held_sessions(_status(Phase.VALIDATING, _follower()), NOW) == nothing
    assert held_sessions(_status(Phase.RUNNING, _follower()), NOW) == nothing
    # Suspended: its pod holds them until it stops, only when the Job is the follower's.
    follower_job = _status(Phase.SUSPENDED, _follower(), job_kind=JobKind.FOLLOWER)
    assert held_sessions(follower_job, NOW) == {"source": 1, "target": 1}
    copy_job = _status(Phase.SUSPENDED, _follower(), job_kind=JobKind.COPY)
    assert held_sessions(copy_job, NOW) == nothing


def test_while_following_the_copy_workers_last_reports_do_not_count() -> None:
    copied = WorkerStatus(
        state=WorkerState.RUNNING, sessions=WorkerSessions(source=2, target=1), updated_at=rfc3339(NOW)
    )
    status = _status(Phase.FOLLOWING, _follower(1, 1))
    status.workers = {"0": copied}
    assert held_sessions(status, NOW) == {"source": 1, "target": 1}


def test_the_followers_reconnects_count_once_per_pod() -> None:
    tally = ReconnectTally()
    assert tally.new_reconnects("ns", "m", {}, _follower(reconnects=(2, 0))) == {"source": 0, "target": 0}
    assert tally.new_reconnects("ns", "m", {}, _follower(reconnects=(3, 0))) == {"source": 1, "target": 0}
    assert tally.new_reconnects("ns", "m", {}, _follower(reconnects=(3, 0))) == {"source": 0, "target": 0}
    # The Job retried the follower: a new pod counts from 0, all of it new.
    retried = _follower(reconnects=(1, 0), pod="m-follow-1-y")
    assert tally.new_reconnects("ns", "m", {}, retried) == {"source": 1, "target": 0}


def test_the_followers_sessions_reach_the_connection_series() -> None:
    labels = {"namespace": "use-f", "migration": "orders"}
    status = _status(Phase.FOLLOWING, _follower(1, 2, at=datetime.now(UTC)))
    record_connection_use("use-f", "orders", ("shop", "warehouse"), status)
    assert REGISTRY.get_sample_value("ferry_connection_sessions", {"name": "shop", **labels}) == 1
    assert REGISTRY.get_sample_value("ferry_connection_sessions", {"name": "warehouse", **labels}) == 2
    status.replication = _follower(1, 2, reconnects=(1, 0), at=datetime.now(UTC))
    record_connection_use("use-f", "orders", ("shop", "warehouse"), status)
    assert REGISTRY.get_sample_value("ferry_connection_reconnects_total", {"name": "shop", **labels}) == 1
    forget_migration("use-f", "orders")
