"""Prometheus metrics of the operator and the worker, all in the default registry.

Every metric is defined here, once, so that names and labels stay consistent across
controllers; each group has a small recording function so callers never touch label
plumbing. Add new groups below the existing ones.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime

from prometheus_client import Counter, Gauge, Histogram, start_http_server

from ferry.api.base import parse_rfc3339
from ferry.api.migration import MigrationStatus
from ferry.api.project import ProjectUsage
from ferry.observability.worker_sessions import SIDES, TALLY, held_sessions

# --- DatabaseConnection ------------------------------------------------------------------

CONNECTION_UP = Gauge(
    "ferry_connection_up",
    "1 when the last probe of the DatabaseConnection succeeded, 0 when it failed.",
    ["namespace", "name", "engine"],
)
# Per connection: a probe is a connect, a round trip (SELECT 1) and a catalog read, the latency a
# platform team compares across its databases; its series go with the connection.
CONNECTION_PROBE_SECONDS = Histogram(
    "ferry_connection_probe_seconds",
    "Duration of DatabaseConnection probes (connect, SELECT 1, server version).",
    ["namespace", "name", "engine"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
CONNECTION_PROBE_FAILURES = Counter(
    "ferry_connection_probe_failures",
    "DatabaseConnection probes that failed, by condition reason.",
    ["namespace", "name", "reason"],
)


def record_connection_probe(
    namespace: str, name: str, engine: str, *, ok: bool, seconds: float, reason: str | None
) -> None:
    CONNECTION_UP.labels(namespace, name, engine).set(1 if ok else 0)
    CONNECTION_PROBE_SECONDS.labels(namespace, name, engine).observe(seconds)
    if not ok:
        CONNECTION_PROBE_FAILURES.labels(namespace, name, reason or "Unknown").inc()


CONNECTION_MAX_CONNECTIONS = Gauge(
    "ferry_connection_max_connections",
    "The DatabaseConnection's spec.maxConnections (absent when it sets none).",
    ["namespace", "name"],
)
# Labelled by the Migration too: its series go when it is deleted, and `sum by (namespace, name)`
# gives the database's total (one Migration at a time uses a capped connection).
CONNECTION_SESSIONS = Gauge(
    "ferry_connection_sessions",
    "Sessions the worker pods of a Migration hold open to the DatabaseConnection, as they last "
    "reported (every 2 s): its copy workers while Running (or Suspended), its validation pods while "
    "Validating, its online follower while Following or CuttingOver; 0 in other phases.",
    ["namespace", "name", "migration"],
)
CONNECTION_RECONNECTS = Counter(
    "ferry_connection_reconnects",
    "Times a copy worker or the online follower lost its session to the DatabaseConnection and "
    "opened it again "
    "(seen by this operator process; ferry.observability.worker_sessions).",
    ["namespace", "name", "migration"],
)


def record_connection_budget(namespace: str, name: str, max_connections: int | None) -> None:
    if max_connections is None:
        with contextlib.suppress(KeyError):  # never set, or already removed
            CONNECTION_MAX_CONNECTIONS.remove(namespace, name)
        return
    CONNECTION_MAX_CONNECTIONS.labels(namespace, name).set(max_connections)


def record_connection_use(
    namespace: str, migration: str, connections: tuple[str, str], status: MigrationStatus
) -> None:
    """The sessions and reconnects the Migration's pods report, per connection (source, target)."""
    held = held_sessions(status)
    added = TALLY.new_reconnects(namespace, migration, status.workers, status.replication)
    sessions: dict[str, int] = {}
    for connection, side in zip(connections, SIDES, strict=True):
        sessions[connection] = sessions.get(connection, 0) + held[side]
        CONNECTION_RECONNECTS.labels(namespace, connection, migration).inc(added[side])
    for connection, count in sessions.items():
        CONNECTION_SESSIONS.labels(namespace, connection, migration).set(count)
    for metric in (CONNECTION_SESSIONS, CONNECTION_RECONNECTS):  # a connectionRef that changed
        for labels in _label_sets(metric):
            if (labels[0], labels[2]) == (namespace, migration) and labels[1] not in sessions:
                metric.remove(*labels)


def forget_connection(namespace: str, name: str) -> None:
    """Drop the series of a deleted connection, so dashboards do not show it as down forever."""
    for metric in (CONNECTION_UP, CONNECTION_PROBE_SECONDS, CONNECTION_PROBE_FAILURES,
                   CONNECTION_MAX_CONNECTIONS, CONNECTION_SESSIONS, CONNECTION_RECONNECTS):  # fmt: skip
        for labels in _label_sets(metric):
            if labels[:2] == (namespace, name):
                metric.remove(*labels)


def _label_sets(metric: Gauge | Counter | Histogram) -> list[tuple[str, ...]]:
    # prometheus-client keeps children keyed by label tuples; there is no public iterator.
    with metric._lock:
        return [tuple(labels) for labels in metric._metrics]


# --- Migration ---------------------------------------------------------------------------

MIGRATION_PHASES = (
    "Pending", "Planning", "AwaitingApproval", "Running", "Following", "CuttingOver", "Validating",
    "Succeeded", "Failed", "Suspended", "RollingBack", "RolledBack",
)  # fmt: skip
MIGRATION_PHASE = Gauge(
    "ferry_migration_phase",
    "1 for the Migration's current phase, 0 for the others.",
    ["namespace", "name", "phase"],
)
MIGRATION_ROWS_COPIED = Gauge(
    "ferry_migration_rows_copied_total",
    "Rows copied so far by the Migration's workers (committed batches).",
    ["namespace", "name"],
)
MIGRATION_ROWS_PER_SECOND = Gauge(
    "ferry_migration_rows_per_second",
    "Copy rate over the workers' sliding window.",
    ["namespace", "name"],
)
MIGRATION_DURATION_SECONDS = Gauge(
    "ferry_migration_duration_seconds",
    "Seconds from the start of the copy to completion (or to now while running).",
    ["namespace", "name"],
)


MIGRATION_RECONCILE_SECONDS = Histogram(
    "ferry_migration_reconcile_seconds",
    "Time of one Migration reconcile step by the operator (reading the world, deciding, writing status).",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
)


def record_reconcile(seconds: float) -> None:
    MIGRATION_RECONCILE_SECONDS.observe(seconds)


MIGRATION_REPLICATION_LAG_SECONDS = Gauge(
    "ferry_migration_replication_lag_seconds",
    "Online mode: how far the target is behind the source, as the follower last reported it.",
    ["namespace", "name"],
)


MIGRATION_PHASE_SINCE = Gauge(
    "ferry_migration_phase_transition_timestamp_seconds",
    "When the Migration entered its current phase (Unix time, from status.phaseTransitionTime), so "
    "an alert can say how long it has waited, across operator restarts.",
    ["namespace", "name"],
)
MIGRATION_CONDITION = Gauge(
    "ferry_migration_condition",
    "1 while the Migration's condition has status True, 0 while False (Ready, Reconciling, Stalled, "
    "CaptureHealthy).",
    ["namespace", "name", "condition"],
)
MIGRATION_CAPTURE_RETAINED_BYTES = Gauge(
    "ferry_migration_capture_retained_bytes",
    "Online mode, PostgreSQL source: WAL the replication slot keeps on the source.",
    ["namespace", "name"],
)
_MIGRATION_SERIES = (
    MIGRATION_ROWS_COPIED, MIGRATION_ROWS_PER_SECOND, MIGRATION_DURATION_SECONDS,
    MIGRATION_REPLICATION_LAG_SECONDS, MIGRATION_PHASE_SINCE, MIGRATION_CAPTURE_RETAINED_BYTES,
    MIGRATION_PHASE, MIGRATION_CONDITION,
)  # fmt: skip


def record_migration(namespace: str, name: str, status: MigrationStatus) -> None:
    for phase in MIGRATION_PHASES:
        MIGRATION_PHASE.labels(namespace, name, phase).set(1 if status.phase.value == phase else 0)
    if status.phase_transition_time:
        MIGRATION_PHASE_SINCE.labels(namespace, name).set(
            parse_rfc3339(status.phase_transition_time).timestamp()
        )
    for condition in status.conditions:
        if condition.status in ("True", "False"):
            MIGRATION_CONDITION.labels(namespace, name, condition.type).set(
                1 if condition.status == "True" else 0
            )
    if status.condition("Stalled") is None:  # removed when it clears: say so rather than keep a stale 1
        MIGRATION_CONDITION.labels(namespace, name, "Stalled").set(0)
    retained = (status.replication.details.get("retainedBytes") if status.replication else None) or ""
    if retained.isdigit():
        MIGRATION_CAPTURE_RETAINED_BYTES.labels(namespace, name).set(int(retained))
    progress = status.progress
    MIGRATION_ROWS_COPIED.labels(namespace, name).set(progress.rows_copied if progress else 0)
    MIGRATION_ROWS_PER_SECOND.labels(namespace, name).set(progress.rows_per_second if progress else 0)
    replication = status.replication
    if replication is not None and replication.lag_seconds is not None:
        MIGRATION_REPLICATION_LAG_SECONDS.labels(namespace, name).set(replication.lag_seconds)
    if status.start_time:
        end = parse_rfc3339(status.completion_time) if status.completion_time else datetime.now(UTC)
        MIGRATION_DURATION_SECONDS.labels(namespace, name).set(
            (end - parse_rfc3339(status.start_time)).total_seconds()
        )


def forget_migration(namespace: str, name: str) -> None:
    """Drop every series of a deleted Migration: a deleted failed run must not keep an alert firing."""
    for metric in _MIGRATION_SERIES:
        for labels in _label_sets(metric):
            if labels[:2] == (namespace, name):
                metric.remove(*labels)
    for used in (CONNECTION_SESSIONS, CONNECTION_RECONNECTS):  # labelled (namespace, connection, migration)
        for labels in _label_sets(used):
            if (labels[0], labels[2]) == (namespace, name):
                used.remove(*labels)
    TALLY.forget(namespace, name)


# --- Project usage -----------------------------------------------------------------------
# Gauges, not counters: the figures are recomputed from the run reports at every Project tick
# (30 s), so they survive an operator restart and the deletion of Migrations without a counter's
# resets or double counts, and they fall when reports expire (retention). Labelled by Project and
# period (`all`, `current_month`, `previous_month`): the current month's gauge is its total.

_USAGE_LABELS = ("project", "period")
PROJECT_ROWS_COPIED = Gauge(
    "ferry_project_rows_copied", "Rows the Project's Migration runs copied.", _USAGE_LABELS
)
PROJECT_BYTES_COPIED = Gauge(
    "ferry_project_bytes_copied", "Bytes the Project's Migration runs read from their sources.", _USAGE_LABELS
)
PROJECT_WORKER_CPU_SECONDS = Gauge(
    "ferry_project_worker_cpu_seconds",
    "CPU time the Project's worker pods used: copy, validation and follower pods.",
    _USAGE_LABELS,
)


def record_project_usage(project: str, usage: ProjectUsage) -> None:
    periods = {"all": usage, "current_month": usage.current_month, "previous_month": usage.previous_month}
    for period, figures in periods.items():
        if figures is None:
            continue
        PROJECT_ROWS_COPIED.labels(project, period).set(figures.rows_copied)
        PROJECT_BYTES_COPIED.labels(project, period).set(figures.bytes_copied)
        PROJECT_WORKER_CPU_SECONDS.labels(project, period).set(figures.worker_cpu_seconds)


def forget_project_usage(project: str) -> None:
    """A deleted Project's series go with it (no stale figures on the dashboard)."""
    for gauge in (PROJECT_ROWS_COPIED, PROJECT_BYTES_COPIED, PROJECT_WORKER_CPU_SECONDS):
        for period in ("all", "current_month", "previous_month"):
            with contextlib.suppress(KeyError):  # never recorded for this Project
                gauge.remove(project, period)


# --- Operator ------------------------------------------------------------------------------

OPERATOR_LEADER = Gauge(
    "ferry_operator_leader",
    "1 while this operator process acts (it holds the leader-election Lease, or runs without "
    "leader election), 0 while it waits as a standby.",
)


def record_leadership(leading: bool) -> None:
    OPERATOR_LEADER.set(1 if leading else 0)


# --- Serving -------------------------------------------------------------------------------


# Prometheus scrapes the pod IP; the NetworkPolicy (metrics port only) limits who connects.
def serve_metrics(port: int, addr: str = "0.0.0.0") -> None:  # noqa: S104
    """Expose /metrics on `addr:port` from a background thread."""
    start_http_server(port, addr)
