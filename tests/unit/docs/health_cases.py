"""Ferry objects in every phase and condition combination, with the health docs/gitops.md claims.

Statuses come from the operator's own transitions (MigrationStatus.mark_*, the connection
controller's apply_probe_result, ProjectStatus.mark_*), so a change of what the reconciler writes
shows up in the Argo CD (Lua) and kstatus (Go) tests that read these cases.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ferry.api import conditions as c
from ferry.api.connection import DatabaseConnectionStatus
from ferry.api.migration import MigrationStatus, Phase, ReplicationStatus
from ferry.api.project import ProjectStatus
from ferry.controllers.connection import apply_probe_result
from ferry.db.probe import ProbeResult

AT = "2026-11-29T12:00:00Z"


@dataclass(frozen=True)
class Case:
    kind: str
    name: str
    status: dict[str, Any] | None  # None: the object as applied, before Ferry wrote any status
    argo: str  # the Argo CD health script's status
    kstatus: str  # sigs.k8s.io/cli-utils kstatus: Current, InProgress or Failed
    generation: int = 1

    @property
    def id(self) -> str:
        return f"{self.kind}-{self.name}"

    def obj(self) -> dict[str, Any]:
        obj: dict[str, Any] = {
            "apiVersion": "ferry.dev/v1alpha1",
            "kind": self.kind,
            "metadata": {"name": "x", "namespace": "team-a", "generation": self.generation},
            "spec": {},
        }
        if self.status is not None:
            obj["status"] = self.status
        return obj


def _migration(*steps: Callable[[MigrationStatus], object]) -> dict[str, Any]:
    st = MigrationStatus()
    for step in steps:
        step(st)
    return st.to_wire()


def _following(st: MigrationStatus) -> None:
    st.mark_following("copy done; job shop-follow-1 applies the source's changes", 1)
    st.replication = ReplicationStatus(state="Following", lag_seconds=0.4)


PROGRESSING = ("Progressing", "InProgress")
HEALTHY = ("Healthy", "Current")
# kstatus has no "waiting for a person": Ready=False without Reconciling or Stalled is InProgress.
SUSPENDED = ("Suspended", "InProgress")
DEGRADED = ("Degraded", "Failed")

_MIGRATIONS: list[tuple[str, dict[str, Any], tuple[str, str]]] = [
    (
        "pending",
        _migration(lambda s: s.mark_waiting(c.WAITING_FOR_CONNECTION, "waiting for pg", 1)),
        PROGRESSING,
    ),
    ("planning", _migration(lambda s: s.mark_planning(1)), PROGRESSING),
    ("running", _migration(lambda s: s.mark_running("copying", 1)), PROGRESSING),
    (
        "running-retry",
        _migration(
            lambda s: s.mark_running("copying", 1), lambda s: s.mark_retry_scheduled("attempt 1 failed", 1)
        ),
        PROGRESSING,
    ),
    (
        "running-database-unavailable",
        _migration(
            lambda s: s.mark_running("copying", 1),
            lambda s: s.mark_workers_held(c.DATABASE_UNAVAILABLE, "pg away", 1),
        ),
        PROGRESSING,
    ),
    (
        "running-throttled-by-guard",
        _migration(
            lambda s: s.mark_running("copying", 1),
            lambda s: s.mark_workers_held(c.THROTTLED_BY_GUARD, "replica lag 42 > 30", 1),
        ),
        PROGRESSING,
    ),
    (
        "pending-connection-slots",
        _migration(lambda s: s.mark_waiting(c.WAITING_FOR_CONNECTION_SLOTS, "another Migration uses pg", 1)),
        PROGRESSING,
    ),
    (
        "running-error-retried",
        _migration(lambda s: s.mark_running("copying", 1), lambda s: s.mark_error("boom", 1, stalled=False)),
        PROGRESSING,
    ),
    ("validating", _migration(lambda s: s.mark_validating(1)), PROGRESSING),
    ("rolling-back", _migration(lambda s: s.mark_rolling_back("rolling back", 1, AT)), PROGRESSING),
    ("following", _migration(_following), HEALTHY),
    (
        "following-cutover-awaiting-approval",
        _migration(lambda s: s.mark_following("cutover waits", 1, c.CUTOVER_AWAITING_APPROVAL)),
        HEALTHY,
    ),
    (
        "following-capture-warning",
        _migration(_following, lambda s: s.mark_capture_health(False, "slot retains 3 GiB", 1)),
        HEALTHY,
    ),
    (
        "cutting-over",
        _migration(_following, lambda s: s.mark_cutting_over("cutover requested", 1)),
        PROGRESSING,
    ),
    (
        "following-retry",
        _migration(_following, lambda s: s.mark_retry_scheduled("follower died", 1, Phase.FOLLOWING)),
        PROGRESSING,
    ),
    (
        "awaiting-approval",
        _migration(lambda s: s.mark_awaiting_approval(c.AWAITING_APPROVAL, "approve", 1)),
        SUSPENDED,
    ),
    (
        "approval-stale",
        _migration(lambda s: s.mark_awaiting_approval(c.APPROVAL_STALE, "stale", 1)),
        SUSPENDED,
    ),
    ("suspended", _migration(lambda s: s.mark_suspended(1)), SUSPENDED),
    (
        "outside-window",
        _migration(lambda s: s.mark_suspended(1, "next window 02:00", c.OUTSIDE_WINDOW)),
        SUSPENDED,
    ),
    ("succeeded", _migration(lambda s: s.mark_succeeded("15607 rows", 1, AT)), HEALTHY),
    ("failed", _migration(lambda s: s.mark_failed(c.JOB_FAILED, "3 attempts failed", 1, AT)), DEGRADED),
    ("rolled-back", _migration(lambda s: s.mark_rolled_back("rolled back", 1)), DEGRADED),
    (
        "plan-failed",
        _migration(lambda s: s.mark_stalled(c.PLAN_FAILED, "plan has errors", 1, Phase.PLANNING)),
        DEGRADED,
    ),
    (
        "policy-violation",
        _migration(lambda s: s.mark_stalled(c.POLICY_VIOLATION, "policy", 1, Phase.PLANNING)),
        DEGRADED,
    ),
    (
        "target-read-only",
        _migration(lambda s: s.mark_stalled(c.TARGET_READ_ONLY, "read only", 1, Phase.PLANNING)),
        DEGRADED,
    ),
    (
        "capture-not-ready",
        _migration(lambda s: s.mark_stalled(c.CAPTURE_NOT_READY, "wal_level", 1, Phase.PLANNING)),
        DEGRADED,
    ),
    (
        "following-source-changed",
        _migration(_following, lambda s: s.mark_stalled(c.SOURCE_SCHEMA_CHANGED, "table public.orders", 1)),
        DEGRADED,
    ),
    ("error-stalled", _migration(lambda s: s.mark_error("boom again", 1, stalled=True)), DEGRADED),
]


def _connection(*results: ProbeResult, reconciling_from: int | None = None) -> dict[str, Any]:
    st = DatabaseConnectionStatus()
    for result in results:
        apply_probe_result(st, result, 1, AT)
    if reconciling_from is not None:  # ferry.controllers.connection._check, before a probe of a new spec
        st.set_condition(c.RECONCILING, "True", c.PROBING, "probing the database", reconciling_from)
    return st.to_wire()


OK = ProbeResult(True, "PostgreSQL 15.8", 1.2, c.CONNECTED, "connected")
UNREACHABLE = ProbeResult(False, None, 0.0, c.UNREACHABLE, "db.internal:5432 refused the connection")
REFUSED = ProbeResult(False, None, 0.0, c.HOST_NOT_ALLOWED, "host db.internal is not allowed")
NO_SECRET = ProbeResult(False, None, 0.0, c.SECRET_NOT_FOUND, 'Secret "pg" not found')

_CONNECTIONS: list[tuple[str, dict[str, Any], tuple[str, str]]] = [
    ("first-probe", _connection(reconciling_from=1), PROGRESSING),
    ("connected", _connection(OK), HEALTHY),
    # Not Stalled: Ferry probes again and it may heal by itself; kstatus reads Ready=False as
    # InProgress, Argo CD shows the failure.
    ("unreachable", _connection(UNREACHABLE), ("Degraded", "InProgress")),
    ("secret-not-found", _connection(NO_SECRET), ("Degraded", "InProgress")),
    ("host-not-allowed", _connection(REFUSED), DEGRADED),
    ("recovered", _connection(UNREACHABLE, OK), HEALTHY),
    ("lost", _connection(OK, UNREACHABLE), ("Degraded", "InProgress")),
]


def _project(step: Callable[[ProjectStatus], object]) -> dict[str, Any]:
    st = ProjectStatus(namespace="team-a", observed_generation=1)
    step(st)
    return st.to_wire()


_PROJECTS: list[tuple[str, dict[str, Any], tuple[str, str]]] = [
    ("reconciled", _project(lambda s: s.mark_reconciled("team-a", 1)), HEALTHY),
    (
        "namespace-owned-elsewhere",
        _project(lambda s: s.mark_refused(c.NAMESPACE_OWNED_ELSEWHERE, 'belongs to Project "b"', 1)),
        DEGRADED,
    ),
    (
        "namespace-not-ferrys",
        _project(lambda s: s.mark_refused(c.NAMESPACE_NOT_FERRYS, "label it", 1)),
        DEGRADED,
    ),
]


KINDS = ("Migration", "DatabaseConnection", "Project")


def _unobserved(kind: str, name: str, status: dict[str, Any]) -> Case:
    """The spec changed (generation 2) and Ferry has not seen it yet: in progress everywhere."""
    return Case(kind, f"{name}-then-spec-changed", status, *PROGRESSING, generation=2)


def cases() -> list[Case]:
    found = [Case("Migration", n, s, *h) for n, s, h in _MIGRATIONS]
    found += [Case("DatabaseConnection", n, s, *h) for n, s, h in _CONNECTIONS]
    found += [Case("Project", n, s, *h) for n, s, h in _PROJECTS]
    # Just applied, no status yet: kstatus knows nothing Ferry-specific and, with no conditions
    # and no observedGeneration to go by, calls it Current (docs/gitops.md says so).
    found += [Case(kind, "no-status-yet", None, "Progressing", "Current") for kind in KINDS]
    found += [
        _unobserved("Migration", "succeeded", _migration(lambda s: s.mark_succeeded("ok", 1, AT))),
        _unobserved("DatabaseConnection", "connected", _connection(OK)),
        _unobserved("DatabaseConnection", "connected-probing", _connection(OK, reconciling_from=2)),
        _unobserved("Project", "reconciled", _project(lambda s: s.mark_reconciled("team-a", 1))),
    ]
    return found


def every_migration_phase_is_covered() -> set[str]:
    """Phases no case reaches (empty when the cases cover them all)."""
    return {p.value for p in Phase} - {str(s.get("phase")) for _, s, _ in _MIGRATIONS}
