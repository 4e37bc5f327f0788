"""Per-connection series from the copy workers' reports: sessions held now (fresh reports of a
Running Migration only), reconnects that never count twice (operator restart, new pods), and every
series gone when its Migration or its DatabaseConnection is deleted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from prometheus_client import REGISTRY

from ferry.api.base import rfc3339
from ferry.api.migration import MigrationStatus, Phase, WorkerSessions, WorkerState, WorkerStatus
from ferry.api.migration_validation import ValidationStatus, ValidationWorkerStatus
from ferry.observability.metrics import (
    forget_connection,
    forget_migration,
    record_connection_budget,
    record_connection_use,
)
from ferry.observability.worker_sessions import ReconnectTally, held_sessions

NOW = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def _worker(
    source: int = 0, target: int = 0, *, reconnects: tuple[int, int] = (0, 0), pod: str | None = "p-0",
    state: WorkerState = WorkerState.RUNNING, age: float = 1.0, at: datetime = NOW,
) -> WorkerStatus:  # fmt: skip
    sessions = WorkerSessions(
        source=source, target=target, source_reconnects=reconnects[0], target_reconnects=reconnects[1]
    )
    updated = rfc3339(at - timedelta(seconds=age))
    return WorkerStatus(state=state, sessions=sessions, pod=pod, updated_at=updated)


def _value(metric: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(metric, labels)


def test_sessions_count_fresh_copying_workers_of_a_running_migration_only() -> None:
    workers = {
        "0": _worker(2, 1),
        "1": _worker(2, 1, state=WorkerState.RECONNECTING),
        "2": _worker(2, 1, age=120.0),  # a pod killed without a last word
        "3": _worker(2, 1, state=WorkerState.DONE),
        "4": WorkerStatus(state=WorkerState.RUNNING),  # an older worker image: no sessions reported
        "5": _worker(2, 1).model_copy(update={"updated_at": "yesterday"}),  # not a time: left out
    }
    assert held_sessions(MigrationStatus(phase=Phase.RUNNING, workers=workers), NOW) == {
        "source": 4,
        "target": 2,
    }
    # Validating: the copy workers' last reports no longer count.
    assert held_sessions(MigrationStatus(phase=Phase.VALIDATING, workers=workers), NOW) == {
        "source": 0,
        "target": 0,
    }


def _validator(
    source: int, target: int, *, run: int = 2, state: str = "running", age: float = 1.0
) -> ValidationWorkerStatus:
    return ValidationWorkerStatus(
        run=run, state=state, sessions=WorkerSessions(source=source, target=target),
        updated_at=rfc3339(NOW - timedelta(seconds=age)),
    )  # fmt: skip


def test_validation_pods_sessions_count_while_validating_for_the_current_run() -> None:
    validators = {
        "0": _validator(1, 1),
        "1": _validator(1, 1),
        "2": _validator(1, 1, run=1),  # the run before a repair: its pods are gone
        "3": _validator(1, 1, state="done"),
        "4": _validator(1, 1, age=120.0),  # killed without a last word
    }
    status = MigrationStatus(
        phase=Phase.VALIDATING, validation=ValidationStatus(run=2), validation_workers=validators
    )
    assert held_sessions(status, NOW) == {"source": 2, "target": 2}
    # The same reports after the phase moved on count nothing.
    assert held_sessions(status.model_copy(update={"phase": Phase.SUCCEEDED}), NOW) == {
        "source": 0,
        "target": 0,
    }


def test_reconnects_count_what_each_pod_added_and_never_twice() -> None:
    tally = ReconnectTally()
    # First sight of a Migration (the operator just started): the baseline, nothing new.
    assert tally.new_reconnects("ns", "m", {"0": _worker(reconnects=(3, 1))}) == {"source": 0, "target": 0}
    assert tally.new_reconnects("ns", "m", {"0": _worker(reconnects=(5, 1))}) == {"source": 2, "target": 0}
    # The pod was replaced: the new one counts from 0, all of it new.
    assert tally.new_reconnects("ns", "m", {"0": _worker(reconnects=(1, 0), pod="p-1")}) == {
        "source": 1, "target": 0,
    }  # fmt: skip
    # A second worker index appears with reconnects already made.
    workers = {"0": _worker(reconnects=(1, 0), pod="p-1"), "1": _worker(reconnects=(0, 2), pod="q-0")}
    assert tally.new_reconnects("ns", "m", workers) == {"source": 0, "target": 2}
    # A pod that does not say its name: a count that fell is a new pod.
    assert tally.new_reconnects("ns", "m", {"0": _worker(reconnects=(4, 0), pod=None)}) == {
        "source": 4, "target": 0,
    }  # fmt: skip
    assert tally.new_reconnects("ns", "m", {"0": _worker(reconnects=(1, 0), pod=None)}) == {
        "source": 1, "target": 0,
    }  # fmt: skip
    tally.forget("ns", "m")
    assert tally.new_reconnects("ns", "m", {"0": _worker(reconnects=(9, 9))}) == {"source": 0, "target": 0}


def test_series_per_connection_and_their_removal() -> None:
    status = MigrationStatus(phase=Phase.RUNNING)
    now = datetime.now(UTC)
    status.workers = {"0": _worker(2, 1, at=now)}
    labels = {"namespace": "use-m", "migration": "orders"}
    record_connection_use("use-m", "orders", ("shop", "warehouse"), status)
    assert _value("ferry_connection_sessions", name="shop", **labels) == 2
    assert _value("ferry_connection_sessions", name="warehouse", **labels) == 1
    assert _value("ferry_connection_reconnects_total", name="shop", **labels) == 0  # the baseline

    status.workers = {"0": _worker(2, 1, reconnects=(1, 0), at=now)}
    record_connection_use("use-m", "orders", ("shop", "warehouse"), status)
    assert _value("ferry_connection_reconnects_total", name="shop", **labels) == 1
    assert _value("ferry_connection_reconnects_total", name="warehouse", **labels) == 0

    # The target connectionRef changed: the old one's series go.
    record_connection_use("use-m", "orders", ("shop", "lake"), status)
    assert _value("ferry_connection_sessions", name="warehouse", **labels) is None
    assert _value("ferry_connection_sessions", name="lake", **labels) == 1

    # The copy ended: nothing is held any more, the count stays.
    status.phase = Phase.SUCCEEDED
    record_connection_use("use-m", "orders", ("shop", "lake"), status)
    assert _value("ferry_connection_sessions", name="shop", **labels) == 0
    assert _value("ferry_connection_reconnects_total", name="shop", **labels) == 1

    forget_migration("use-m", "orders")
    for name in ("shop", "lake"):
        assert _value("ferry_connection_sessions", name=name, **labels) is None
        assert _value("ferry_connection_reconnects_total", name=name, **labels) is None


def test_budget_series_and_a_deleted_connection() -> None:
    record_connection_budget("use-c", "shop", 4)
    assert _value("ferry_connection_max_connections", namespace="use-c", name="shop") == 4
    record_connection_budget("use-c", "shop", None)  # the cap was removed
    assert _value("ferry_connection_max_connections", namespace="use-c", name="shop") is None

    record_connection_budget("use-c", "shop", 2)
    status = MigrationStatus(phase=Phase.RUNNING)
    status.workers = {"0": _worker(1, 1, at=datetime.now(UTC))}
    record_connection_use("use-c", "orders", ("shop", "shop"), status)  # one database, both sides
    assert _value("ferry_connection_sessions", namespace="use-c", name="shop", migration="orders") == 2
    forget_connection("use-c", "shop")
    assert _value("ferry_connection_max_connections", namespace="use-c", name="shop") is None
    assert _value("ferry_connection_sessions", namespace="use-c", name="shop", migration="orders") is None
