"""The Migration series alerts read: conditions, phase age, slot retention; all gone on delete."""

from __future__ import annotations

from prometheus_client import REGISTRY

from ferry.api.migration import MigrationStatus, Phase, ReplicationStatus
from ferry.observability.metrics import forget_migration, record_migration


def _value(metric: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(metric, labels)


def test_series_of_a_stalled_online_migration_and_their_removal_on_delete() -> None:
    status = MigrationStatus()
    status.mark_stalled("SourceSchemaChanged", "public.orders changed", 1, Phase.FOLLOWING)
    status.replication = ReplicationStatus(
        lag_seconds=3.5, details={"retainedBytes": "2048", "slot": "ferry_x"}
    )
    record_migration("team-m", "orders", status)

    assert _value("ferry_migration_condition", namespace="team-m", name="orders", condition="Stalled") == 1
    assert _value("ferry_migration_condition", namespace="team-m", name="orders", condition="Ready") == 0
    assert _value("ferry_migration_phase", namespace="team-m", name="orders", phase="Following") == 1
    since = _value("ferry_migration_phase_transition_timestamp_seconds", namespace="team-m", name="orders")
    assert since is not None and since > 1.7e9  # set when the phase changed
    assert _value("ferry_migration_capture_retained_bytes", namespace="team-m", name="orders") == 2048
    assert _value("ferry_migration_replication_lag_seconds", namespace="team-m", name="orders") == 3.5

    # The condition clears: a 0, not a stale 1.
    status.mark_running("copying", 2)
    record_migration("team-m", "orders", status)
    assert _value("ferry_migration_condition", namespace="team-m", name="orders", condition="Stalled") == 0

    forget_migration("team-m", "orders")
    for name in (
        "ferry_migration_condition",
        "ferry_migration_phase",
        "ferry_migration_capture_retained_bytes",
        "ferry_migration_phase_transition_timestamp_seconds",
        "ferry_migration_rows_copied_total",
    ):
        assert not [s for m in REGISTRY.collect() for s in m.samples
                    if s.name == name and s.labels.get("namespace") == "team-m"], name  # fmt: skip
