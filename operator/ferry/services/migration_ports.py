"""What the Migration reconciler needs from the world, as one small protocol.

The reconciler (ferry.services.migration) decides; the ports do. `KubeMigrationPorts`
(ferry.services.migration_kube) is the one real implementation: the Kubernetes API for
objects, Jobs and status, SQL for the databases. Unit tests pass a fake and drive every
transition without a cluster or a database, as CloudNativePG injects its database side
into controllers and atlas-operator injects its CLI.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from ferry.api.connection import DatabaseConnectionSpec
from ferry.api.migration import MigrationSpec, MigrationStatus
from ferry.api.migration_validation import ValidationWorkerStatus
from ferry.db.credentials import Credentials
from ferry.schema.mapping import TableMapping
from ferry.schema.plan import Plan
from ferry.services.approvals import ApprovalsRead
from ferry.services.capture_ops import CaptureHealth, FollowRecord
from ferry.services.connection_budget import ConnectionUse
from ferry.services.planning import PlannedMigration, Side
from ferry.services.policy import Governance
from ferry.services.validation import ValidationReport


@dataclass(frozen=True)
class PlanBasis:
    """What the last plan was computed from: a digest of the generation, the effective spec, the
    connections, the Project's rules and both schemas' fingerprints; and when."""

    key: str
    planned_at: datetime


@dataclass
class MigrationContext:
    """One Migration as the handler saw it, parsed once.

    The last three fields are the operator's memory of this object between handler calls (kept
    in kopf's per-object memo, lost on a restart, which costs one write and one plan):
    `read` and `written` are the operator-owned status fields as read from the object and as
    last written (the bases of the next status patch: ferry.services.status_diff), and
    `plan_basis` what the current plan was computed from (ferry.services.migration re-plans a
    Migration awaiting approval only when it changed)."""

    name: str
    namespace: str
    uid: str
    generation: int
    spec: MigrationSpec
    status: MigrationStatus
    read: dict[str, Any] | None = None
    written: dict[str, Any] | None = None
    plan_basis: PlanBasis | None = None
    author: str | None = None  # the ferry.dev/author annotation (checked at admission), if any


@dataclass(frozen=True)
class ConnectionLookup:
    """A connectionRef looked up: its spec when it exists and is Ready, else why not."""

    spec: DatabaseConnectionSpec | None
    why_not: str = ""


@dataclass(frozen=True)
class Sides:
    source: Side
    target: Side


class JobState(StrEnum):
    """The worker Job of the current attempt, as far as the reconciler cares."""

    MISSING = "missing"  # never created, or deleted behind our back
    ACTIVE = "active"
    COMPLETE = "complete"
    FAILED = "failed"


class MigrationPorts(Protocol):
    # -- the cluster ---------------------------------------------------------------------------
    def connection(self, namespace: str, name: str) -> ConnectionLookup: ...

    def credentials(self, namespace: str, connection: DatabaseConnectionSpec) -> Credentials:
        """Resolve from Secrets; raises ferry.db.credentials.SecretError naming what is missing."""
        ...

    def governance(self, namespace: str) -> Governance: ...

    def save_status(self, ctx: MigrationContext) -> None: ...

    def ensure_worker_rbac(self, ctx: MigrationContext, spec: MigrationSpec) -> None:
        """The Migration's own worker identity: reads its Migration and connections, patches its
        own status, nothing else."""
        ...

    def create_job(self, ctx: MigrationContext, spec: MigrationSpec) -> str:
        """Create (or adopt) the Job of attempt `ctx.status.attempts` for the effective `spec`;
        returns its name."""
        ...

    def job_state(self, namespace: str, job_name: str | None) -> JobState: ...

    def job_failure(self, namespace: str, job_name: str) -> str:
        """Why a failed Job failed, from its Failed condition ('BackoffLimitExceeded: …'): what is
        known when its pods could not say (killed, out of memory); '' when it does not say."""
        ...

    def suspend_job(self, namespace: str, job_name: str, suspend: bool) -> None: ...

    def validation_workers(self, ctx: MigrationContext) -> dict[str, ValidationWorkerStatus]:
        """The validation pods' status entries as the apiserver holds them now ({} when it cannot
        be read): read once a validation Job has ended, since the status a tick began with can
        predate a pod's last report (the pods send it before they exit, so before the Job ends)."""
        ...

    def approvals(self, namespace: str, migration: str) -> ApprovalsRead:
        """The MigrationApprovals naming this Migration, and whether approvers are verified."""
        ...

    def write_report(self, ctx: MigrationContext, report: dict[str, Any]) -> str | None:
        """Keep the report of a run that ended where it outlives the Migration; returns where
        (a ConfigMap's name), or None when it could not be written (tried again later)."""
        ...

    def publish_plan(self, ctx: MigrationContext, plan: Plan, target_dialect: str) -> str | None:
        """Keep the whole plan where reviewers can read it; returns the ConfigMap's name, or None
        when it could not be written (the status summary still stands)."""
        ...

    # -- the databases -------------------------------------------------------------------------
    def plan(self, spec: MigrationSpec, sides: Sides, owned_tables: list[str]) -> PlannedMigration: ...

    def schema_fingerprint(self, spec: MigrationSpec, sides: Sides) -> str:
        """A cheap digest of both schemas' catalogs (ferry.schema.fingerprint): it changes when
        DDL changes either side, not when rows do."""
        ...

    def prepare_target(self, spec: MigrationSpec, sides: Sides, uid: str, planned: PlannedMigration) -> int:
        """Pre-data DDL, truncation, foreign keys set aside; returns how many keys were set aside."""
        ...

    def complete_target(self, spec: MigrationSpec, sides: Sides, uid: str, owned_tables: list[str]) -> None:
        """Foreign keys back, deferred keys and indexes built; raises RestoreError or ApplyError."""
        ...

    def create_validation_job(self, ctx: MigrationContext, spec: MigrationSpec, run: int) -> str:
        """Create the validation Job of run `run`, or adopt it (deterministic name); its name."""
        ...

    def validation_results(
        self, ctx: MigrationContext, spec: MigrationSpec, sides: Sides, run: int
    ) -> ValidationReport:
        """What run `run`'s validation Job stored on the target (ferry.services.validation)."""
        ...

    def roll_back(self, spec: MigrationSpec, action: str, sides: Sides, created: list[str], uid: str) -> str:
        """Truncate or drop what the migration wrote; returns what was done, for the message."""
        ...

    def restore_foreign_keys(self, target: Side, uid: str) -> str:
        """Put back keys set aside for the load; returns a note for the message ('' if none)."""
        ...

    def forget_checkpoints(self, target: Side, uid: str, *, validation_results: bool = True) -> None:
        """Clear the Migration's checkpoint rows from the target, and its validation's range
        results unless told to keep them (best effort: never raises)."""
        ...

    # -- online mode: the capture on the source, the follower, the cutover --------------------------
    def start_capture(
        self, spec: MigrationSpec, sides: Sides, uid: str, mappings: Sequence[TableMapping]
    ) -> str:
        """Open the capture before the copy reads a row (and record its start on the target);
        returns the start position. Idempotent."""
        ...

    def prepare_follow(self, spec: MigrationSpec, sides: Sides, uid: str) -> None:
        """The keys the follower applies changes by, built on the target before it starts."""
        ...

    def create_follower_job(self, ctx: MigrationContext, spec: MigrationSpec) -> str:
        """Create (or adopt) the follower Job of attempt `ctx.status.attempts`; returns its name."""
        ...

    def request_cutover(self, spec: MigrationSpec, sides: Sides, uid: str) -> None:
        """Tell the follower (through the bookkeeping on the target) to end at the cutover."""
        ...

    def follow_record(self, spec: MigrationSpec, sides: Sides, uid: str) -> FollowRecord: ...

    def drop_capture(self, spec: MigrationSpec, sides: Sides, uid: str, outcome: str) -> str:
        """Remove the capture from the source and record `outcome`; returns what was removed."""
        ...

    def capture_health(self, spec: MigrationSpec, sides: Sides, uid: str) -> CaptureHealth: ...

    def connection_uses(self, namespace: str) -> list[ConnectionUse]:
        """The namespace's Migrations with their phases and connections (maxConnections admission)."""
        ...

    def now(self) -> datetime: ...
