"""What the Migration reconciler needs from the world, as one small protocol.

The reconciler (ferry.services.migration) decides; the ports do. `KubeMigrationPorts`
(ferry.services.migration_kube) is the one real implementation: the Kubernetes API for
objects, Jobs and status, SQL for the databases. Unit tests pass a fake and drive every
transition without a cluster or a database, as CloudNativePG injects its database side
into controllers and atlas-operator injects its CLI.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

from ferry.api.connection import DatabaseConnectionSpec
from ferry.api.migration import MigrationSpec, MigrationStatus
from ferry.db.credentials import Credentials
from ferry.services.planning import PlannedMigration, Side
from ferry.services.policy import Governance
from ferry.services.validation import ValidationReport


@dataclass
class MigrationContext:
    """One Migration as the handler saw it, parsed once."""

    name: str
    namespace: str
    uid: str
    generation: int
    spec: MigrationSpec
    status: MigrationStatus


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

    def ensure_worker_rbac(self, namespace: str) -> None: ...

    def create_job(self, ctx: MigrationContext, spec: MigrationSpec) -> str:
        """Create (or adopt) the Job of attempt `ctx.status.attempts` for the effective `spec`;
        returns its name."""
        ...

    def job_state(self, namespace: str, job_name: str | None) -> JobState: ...

    def suspend_job(self, namespace: str, job_name: str, suspend: bool) -> None: ...

    # -- the databases -------------------------------------------------------------------------
    def plan(self, spec: MigrationSpec, sides: Sides, owned_tables: list[str]) -> PlannedMigration: ...

    def prepare_target(self, spec: MigrationSpec, sides: Sides, uid: str, planned: PlannedMigration) -> int:
        """Pre-data DDL, truncation, foreign keys set aside; returns how many keys were set aside."""
        ...

    def complete_target(self, spec: MigrationSpec, sides: Sides, uid: str, owned_tables: list[str]) -> None:
        """Foreign keys back, deferred keys and indexes built; raises RestoreError or ApplyError."""
        ...

    def validate(self, ctx: MigrationContext, spec: MigrationSpec, sides: Sides) -> ValidationReport: ...

    def roll_back(self, spec: MigrationSpec, action: str, sides: Sides, created: list[str], uid: str) -> str:
        """Truncate or drop what the migration wrote; returns what was done, for the message."""
        ...

    def restore_foreign_keys(self, target: Side, uid: str) -> str:
        """Put back keys set aside for the load; returns a note for the message ('' if none)."""
        ...

    def now(self) -> datetime: ...
