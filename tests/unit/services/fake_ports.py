"""A fake of the Migration reconciler's ports: the world as plain data, every action recorded.

It stands in for the Kubernetes API and the databases so each transition of
ferry.services.migration runs in milliseconds; the real ports (KubeMigrationPorts) are
covered by the e2e tests against a real control plane and real databases.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from ferry.api.connection import DatabaseConnectionSpec
from ferry.api.migration import MigrationSpec, MigrationStatus
from ferry.api.migration_validation import ValidationWorkerStatus
from ferry.db.credentials import Credentials, SecretNotFound
from ferry.schema import (
    DESTRUCTIVE,
    SAFE,
    ColumnMapping,
    DatabaseSchema,
    Operation,
    OpKind,
    Plan,
    TableMapping,
)
from ferry.services.approvals import ApprovalsRead
from ferry.services.capture_ops import CaptureHealth, FollowRecord
from ferry.services.connection_budget import ConnectionUse
from ferry.services.migration_ports import ConnectionLookup, JobState, MigrationContext, Sides
from ferry.services.planning import PlannedMigration, Side
from ferry.services.policy import Governance
from ferry.services.validation import ValidationReport


def connection(*, read_only: bool = False) -> DatabaseConnectionSpec:
    return DatabaseConnectionSpec.model_validate(
        {
            "engine": "postgresql",
            "host": "db.example",
            "port": 5432,
            "database": "shop",
            "credentialsSecretRef": {"name": "creds"},
            "readOnly": read_only,
        }
    )


MAPPING = TableMapping(
    source_schema="public",
    source_table="orders",
    target_schema="public",
    target_table="orders",
    columns=(ColumnMapping("id", "id", "bigint", "bigint", False),),
    key=("id",),
    row_estimate=1000,
)


def plan(*operations: Operation, errors: tuple[str, ...] = ()) -> PlannedMigration:
    schema = DatabaseSchema(dialect="postgresql", schema="public")
    ops = tuple(operations)
    digest = hashlib.sha256(repr((ops, errors)).encode()).hexdigest()
    planned = Plan(ops, (), errors, "src", "dst", "diff", hash=digest)
    return PlannedMigration(schema, schema, [MAPPING], planned)


def create_table() -> Operation:
    return Operation(OpKind.CREATE_TABLE, "public", "orders", SAFE, "new table", "create orders")


def drop_column() -> Operation:
    return Operation(OpKind.DROP_COLUMN, "public", "orders", DESTRUCTIVE, "not in source", "drop note")


def spec(**extra: Any) -> MigrationSpec:
    return MigrationSpec.model_validate(
        {"source": {"connectionRef": {"name": "src"}}, "target": {"connectionRef": {"name": "dst"}}, **extra}
    )


def context(migration: MigrationSpec | None = None, generation: int = 1) -> MigrationContext:
    return MigrationContext("shop", "team-a", "uid-1", generation, migration or spec(), MigrationStatus())


@dataclass
class FakePorts:
    connections: dict[str, DatabaseConnectionSpec | str] = field(
        default_factory=lambda: {"src": connection(), "dst": connection()}
    )
    missing_secret: str | None = None
    secrets_read: list[str] = field(default_factory=list)  # names of the Secrets `credentials` read
    governance_: Governance = field(default_factory=lambda: Governance(None))
    planned: PlannedMigration | Exception = field(default_factory=lambda: plan(create_table()))
    job: JobState = JobState.MISSING
    validation: ValidationReport = field(default_factory=lambda: ValidationReport([]))
    validation_jobs: dict[str, JobState] = field(default_factory=dict)
    validation_job_default: JobState = JobState.COMPLETE
    # the validation pods' entries a fresh read finds once their Job ended (the apiserver's)
    fresh_validation_workers: dict[str, ValidationWorkerStatus] = field(default_factory=dict)
    complete_error: Exception | None = None
    job_failure_reason: str = "BackoffLimitExceeded: Job has reached the specified backoff limit"
    deferred_keys: int = 0
    clock: datetime = field(default_factory=lambda: datetime(2026, 11, 29, 12, 0, tzinfo=UTC))
    calls: list[tuple[Any, ...]] = field(default_factory=list)
    saved: list[MigrationStatus] = field(default_factory=list)
    created_jobs: list[tuple[str, int, MigrationSpec]] = field(default_factory=list)
    published_plans: list[tuple[str, str]] = field(default_factory=list)  # (plan hash, target dialect)
    reports: list[dict[str, Any]] = field(default_factory=list)
    approvals_: ApprovalsRead = field(default_factory=lambda: ApprovalsRead((), verified=True))
    uses: list[ConnectionUse] = field(default_factory=list)  # the namespace's other Migrations
    # online mode
    start_position: str = "0/16B3748"
    cutover_position: str | None = "0/2000000"
    health: CaptureHealth = field(default_factory=lambda: CaptureHealth("ferry_uid1", retained_bytes=4096))
    capture_present: bool = False
    fingerprint: str | Exception = "pg:a|pg:b"  # both schemas' catalogs, as schema_fingerprint digests them
    roll_back_error: Exception | None = None

    # -- the cluster
    def connection(self, namespace: str, name: str) -> ConnectionLookup:
        found = self.connections.get(name, f'DatabaseConnection "{name}" not found')
        return ConnectionLookup(None, found) if isinstance(found, str) else ConnectionLookup(found)

    def credentials(self, namespace: str, connection: DatabaseConnectionSpec) -> Credentials:
        ref = connection.credentials_secret_ref or connection.url_secret_ref
        self.secrets_read += [ref.name] if ref else []
        if self.missing_secret:
            raise SecretNotFound(self.missing_secret)
        return Credentials(username="app", password="s3cret-value")

    def governance(self, namespace: str) -> Governance:
        return self.governance_

    def save_status(self, ctx: MigrationContext) -> None:
        ctx.status.observed_generation = ctx.generation
        self.saved.append(ctx.status.model_copy(deep=True))

    def ensure_worker_rbac(self, ctx: MigrationContext, spec: MigrationSpec) -> None:
        self.calls.append(("rbac", ctx.namespace))

    def create_job(self, ctx: MigrationContext, spec: MigrationSpec) -> str:
        name = f"{ctx.name}-{ctx.status.attempts}"
        self.created_jobs.append((name, ctx.status.attempts, spec))
        self.job = JobState.ACTIVE
        return name

    def job_state(self, namespace: str, job_name: str | None) -> JobState:
        if job_name is not None and "-validate-" in job_name:
            # A validation Job completes at once unless a test says otherwise.
            return self.validation_jobs.get(job_name, JobState.MISSING)
        return self.job

    def job_failure(self, namespace: str, job_name: str) -> str:
        return self.job_failure_reason

    def validation_workers(self, ctx: MigrationContext) -> dict[str, ValidationWorkerStatus]:
        self.calls.append(("validation_workers", ctx.name))
        return dict(self.fresh_validation_workers)

    def suspend_job(self, namespace: str, job_name: str, suspend: bool) -> None:
        self.calls.append(("suspend" if suspend else "resume", job_name))

    def approvals(self, namespace: str, migration: str) -> ApprovalsRead:
        return self.approvals_

    def write_report(self, ctx: MigrationContext, report: dict[str, Any]) -> str | None:
        self.reports.append(report)
        return f"ferry-report-{ctx.name}-{ctx.uid[:8]}"

    def publish_plan(self, ctx: MigrationContext, plan: Plan, target_dialect: str) -> str | None:
        self.published_plans.append((plan.hash, target_dialect))
        return f"ferry-plan-{ctx.name}"

    # -- the databases
    def plan(self, spec: MigrationSpec, sides: Sides, owned_tables: list[str]) -> PlannedMigration:
        self.calls.append(("plan",))
        if isinstance(self.planned, Exception):
            raise self.planned
        return self.planned

    def schema_fingerprint(self, spec: MigrationSpec, sides: Sides) -> str:
        self.calls.append(("fingerprint",))
        if isinstance(self.fingerprint, Exception):
            raise self.fingerprint
        return self.fingerprint

    def prepare_target(self, spec: MigrationSpec, sides: Sides, uid: str, planned: PlannedMigration) -> int:
        self.calls.append(("prepare_target", uid))
        return self.deferred_keys

    def complete_target(self, spec: MigrationSpec, sides: Sides, uid: str, owned_tables: list[str]) -> None:
        self.calls.append(("complete_target", tuple(owned_tables)))
        if self.complete_error is not None:
            raise self.complete_error

    def create_validation_job(self, ctx: MigrationContext, spec: MigrationSpec, run: int) -> str:
        name = f"{ctx.name}-validate-{run}"
        self.calls.append(("validation_job", name))
        self.validation_jobs.setdefault(name, self.validation_job_default)
        return name

    def validation_results(
        self, ctx: MigrationContext, spec: MigrationSpec, sides: Sides, run: int
    ) -> ValidationReport:
        self.calls.append(("validate",))
        return self.validation

    def roll_back(self, spec: MigrationSpec, action: str, sides: Sides, created: list[str], uid: str) -> str:
        self.calls.append(("roll_back", action, tuple(created)))
        if self.roll_back_error is not None:
            raise self.roll_back_error
        return f"{action} done"

    def restore_foreign_keys(self, target: Side, uid: str) -> str:
        self.calls.append(("restore_foreign_keys", uid))
        return ""

    def forget_checkpoints(self, target: Side, uid: str, *, validation_results: bool = True) -> None:
        self.calls.append(("forget_checkpoints", uid))

    # -- online mode
    def start_capture(
        self, spec: MigrationSpec, sides: Sides, uid: str, mappings: Sequence[TableMapping]
    ) -> str:
        self.calls.append(("start_capture", uid, tuple(m.source_table for m in mappings)))
        self.capture_present = True
        return self.start_position

    def prepare_follow(self, spec: MigrationSpec, sides: Sides, uid: str) -> None:
        self.calls.append(("prepare_follow", uid))

    def create_follower_job(self, ctx: MigrationContext, spec: MigrationSpec) -> str:
        name = f"{ctx.name}-follow-{ctx.status.attempts}"
        self.created_jobs.append((name, ctx.status.attempts, spec))
        self.job = JobState.ACTIVE
        return name

    def request_cutover(self, spec: MigrationSpec, sides: Sides, uid: str) -> None:
        self.calls.append(("request_cutover", spec.cutover.max_lag_seconds))

    def follow_record(self, spec: MigrationSpec, sides: Sides, uid: str) -> FollowRecord:
        return FollowRecord(self.start_position, self.cutover_position, self.cutover_position)

    def drop_capture(self, spec: MigrationSpec, sides: Sides, uid: str, outcome: str) -> str:
        self.calls.append(("drop_capture", outcome))
        dropped = "slot ferry_uid1 and publication ferry_uid1" if self.capture_present else ""
        self.capture_present = False
        return dropped

    def capture_health(self, spec: MigrationSpec, sides: Sides, uid: str) -> CaptureHealth:
        self.calls.append(("capture_health",))
        return self.health

    def connection_uses(self, namespace: str) -> list[ConnectionUse]:
        return self.uses

    def now(self) -> datetime:
        return self.clock

    def actions(self) -> list[str]:
        return [str(call[0]) for call in self.calls]
