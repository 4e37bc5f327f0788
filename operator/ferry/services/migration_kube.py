"""The Migration reconciler's ports, for real: the Kubernetes API and the two databases."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from ferry.api.connection import DatabaseConnectionSpec
from ferry.api.kinds import MIGRATION
from ferry.api.migration import MigrationSpec
from ferry.api.migration_validation import ValidationWorkerStatus
from ferry.db.credentials import Credentials, resolve_credentials
from ferry.kube.apply import server_side_apply
from ferry.kube.plan_configmap import build_plan_configmap
from ferry.kube.run_report import write_report
from ferry.kube.secrets import KubeSecretSource
from ferry.kube.status import get_object, patch_status
from ferry.observability.errors import first_line
from ferry.observability.logging import get_logger
from ferry.observability.redaction import register_secret
from ferry.schema.mapping import TableMapping
from ferry.schema.plan import Plan
from ferry.services import rollback
from ferry.services.approval_index import ApprovalIndex
from ferry.services.approvals import ApprovalsRead
from ferry.services.approvals_kube import read_approvals, read_indexed_approvals
from ferry.services.capture_ops import CaptureHealth, CaptureOps, FollowRecord, plan_with_capture
from ferry.services.connection_budget import ConnectionUse
from ferry.services.connection_refs import ConnectionIndex, indexed_connection, ready_connection
from ferry.services.connection_users import list_uses
from ferry.services.governance import governance_for
from ferry.services.migration_ports import ConnectionLookup, JobState, MigrationContext, Sides
from ferry.services.planning import PlannedMigration, Side, schema_fingerprints
from ferry.services.policy import Governance
from ferry.services.status_diff import changed_fields, owned_status
from ferry.services.target_load import complete_target, prepare_target
from ferry.services.validation import ValidationReport, read_validation
from ferry.services.worker_jobs import (
    create_follower_job,
    create_validation_job,
    create_worker_job,
    ensure_worker_rbac,
    read_worker_job,
    worker_identity,
)

log = get_logger(__name__)


class NoCapture(Exception):
    """The ports were made without change capture, and an online Migration needs it."""


class KubeMigrationPorts:
    """`MigrationPorts` over one Kubernetes API client, and for online mode the change capture
    (`ferry.cdc.lifecycle.CdcCaptureOps`, handed in because ferry.cdc sits above the services)."""

    def __init__(
        self,
        api: client.ApiClient,
        capture: CaptureOps | None = None,
        governance: Callable[[str], Governance] | None = None,
        connections: ConnectionIndex | None = None,
        approvals: ApprovalIndex | None = None,
    ) -> None:
        """`governance`: the Project governing a namespace, from the operator's index of Projects
        (ferry.controllers.project); without it, Projects are listed from the API per call.
        `connections`: the operator's index of DatabaseConnections; without it, each is read.
        `approvals`: the operator's index of MigrationApprovals; without it, they are listed."""
        self.api = api
        self._capture = capture
        self._governance = governance
        self._connections = connections
        self._approvals = approvals

    @property
    def capture(self) -> CaptureOps:
        if self._capture is None:
            raise NoCapture("this operator was started without change capture; online mode cannot run")
        return self._capture

    # -- the cluster ---------------------------------------------------------------------------

    def connection(self, namespace: str, name: str) -> ConnectionLookup:
        if self._connections is not None:
            spec, why_not = indexed_connection(self._connections, namespace, name)
        else:
            spec, why_not = ready_connection(self.api, namespace, name)
        return ConnectionLookup(spec, why_not)

    def credentials(self, namespace: str, connection: DatabaseConnectionSpec) -> Credentials:
        credentials = resolve_credentials(connection, KubeSecretSource(client.CoreV1Api(self.api), namespace))
        for value in credentials.secret_values():
            register_secret(value)  # scrubbed from any error text that quotes it
        return credentials

    def governance(self, namespace: str) -> Governance:
        if self._governance is not None:
            return self._governance(namespace)
        return governance_for(self.api, namespace)

    def save_status(self, ctx: MigrationContext) -> None:
        """Patch the operator-owned status fields that changed (ferry.services.status_diff);
        nothing at all when none did."""
        ctx.status.observed_generation = ctx.generation
        wire = owned_status(ctx.status)
        patch = changed_fields(wire, ctx.written, ctx.read)
        if patch:
            patch_status(self.api, MIGRATION, ctx.namespace, ctx.name, patch)
        ctx.written = ctx.read = wire

    def ensure_worker_rbac(self, ctx: MigrationContext, spec: MigrationSpec) -> None:
        ensure_worker_rbac(self.api, worker_identity(ctx.name, ctx.namespace, ctx.uid, spec))

    def create_job(self, ctx: MigrationContext, spec: MigrationSpec) -> str:
        return create_worker_job(self.api, ctx.name, ctx.namespace, ctx.uid, spec, ctx.status)

    def job_state(self, namespace: str, job_name: str | None) -> JobState:
        job = read_worker_job(self.api, namespace, job_name)
        if job is None:
            return JobState.MISSING
        finished = {cond.type: cond.status for cond in (job.status.conditions or [])}
        if finished.get("Complete") == "True":
            return JobState.COMPLETE
        if finished.get("Failed") == "True":
            return JobState.FAILED
        return JobState.ACTIVE

    def job_failure(self, namespace: str, job_name: str) -> str:
        job = read_worker_job(self.api, namespace, job_name)
        failed = [
            cond
            for cond in ((job.status.conditions or []) if job is not None else [])
            if cond.type == "Failed"
        ]
        if not failed:
            return ""
        return first_line(f"{failed[0].reason or 'Failed'}: {failed[0].message or 'no message'}")

    def suspend_job(self, namespace: str, job_name: str, suspend: bool) -> None:
        client.BatchV1Api(self.api).patch_namespaced_job(job_name, namespace, {"spec": {"suspend": suspend}})

    def validation_workers(self, ctx: MigrationContext) -> dict[str, ValidationWorkerStatus]:
        try:
            found = get_object(self.api, MIGRATION, ctx.namespace, ctx.name, timeout=10)
        except ApiException as exc:
            log.warning("validation pods' reports not read again", migration=ctx.name,
                        namespace=ctx.namespace, status=exc.status, reason=exc.reason)  # fmt: skip
            return {}
        entries = ((found.get("status") or {}).get("validationWorkers")) or {}
        return {index: ValidationWorkerStatus.model_validate(entry) for index, entry in entries.items()}

    def approvals(self, namespace: str, migration: str) -> ApprovalsRead:
        if self._approvals is not None:
            return read_indexed_approvals(self.api, self._approvals, namespace, migration)
        return read_approvals(self.api, namespace, migration)

    def write_report(self, ctx: MigrationContext, report: dict[str, Any]) -> str | None:
        try:
            return write_report(self.api, ctx.namespace, ctx.name, ctx.uid, report)
        except ApiException as exc:
            log.warning("run report not written", migration=ctx.name, namespace=ctx.namespace,
                        status=exc.status, reason=exc.reason)  # fmt: skip
            return None

    def publish_plan(self, ctx: MigrationContext, plan: Plan, target_dialect: str) -> str | None:
        configmap = build_plan_configmap(ctx.namespace, ctx.name, ctx.uid, plan, target_dialect)
        try:
            server_side_apply(self.api, configmap)
        except ApiException as exc:  # RBAC or quota: the summary in status still stands; say why
            log.warning("plan ConfigMap not written", migration=ctx.name, namespace=ctx.namespace,
                        status=exc.status, reason=exc.reason)  # fmt: skip
            return None
        name: str = configmap["metadata"]["name"]
        return name

    # -- the databases -------------------------------------------------------------------------

    def plan(self, spec: MigrationSpec, sides: Sides, owned_tables: list[str]) -> PlannedMigration:
        return plan_with_capture(spec, sides.source, sides.target, self._capture, owned_tables=owned_tables)

    def schema_fingerprint(self, spec: MigrationSpec, sides: Sides) -> str:
        return schema_fingerprints(spec, sides.source, sides.target)

    def prepare_target(self, spec: MigrationSpec, sides: Sides, uid: str, planned: PlannedMigration) -> int:
        return len(prepare_target(sides.target, uid, planned, spec.copy_.truncate_target))

    def complete_target(self, spec: MigrationSpec, sides: Sides, uid: str, owned_tables: list[str]) -> None:
        complete_target(spec, sides.source, sides.target, uid, owned_tables=owned_tables)

    def create_validation_job(self, ctx: MigrationContext, spec: MigrationSpec, run: int) -> str:
        return create_validation_job(self.api, ctx.name, ctx.namespace, ctx.uid, spec, ctx.status, run)

    def validation_results(
        self, ctx: MigrationContext, spec: MigrationSpec, sides: Sides, run: int
    ) -> ValidationReport:
        return read_validation(spec, sides.source, sides.target, migration_uid=ctx.uid, run=run)

    def roll_back(self, spec: MigrationSpec, action: str, sides: Sides, created: list[str], uid: str) -> str:
        return rollback.roll_back(spec, action, sides.source, sides.target, created, uid)

    def restore_foreign_keys(self, target: Side, uid: str) -> str:
        return rollback.restore_note(target, uid)

    def forget_checkpoints(self, target: Side, uid: str, *, validation_results: bool = True) -> None:
        rollback.forget_checkpoints(target, uid, validation_results=validation_results)

    # -- online mode -----------------------------------------------------------------------------------

    def start_capture(
        self, spec: MigrationSpec, sides: Sides, uid: str, mappings: Sequence[TableMapping]
    ) -> str:
        return self.capture.start(sides.source, sides.target, mappings, uid)

    def prepare_follow(self, spec: MigrationSpec, sides: Sides, uid: str) -> None:
        self.capture.prepare_follow(spec, sides.source, sides.target, uid)

    def create_follower_job(self, ctx: MigrationContext, spec: MigrationSpec) -> str:
        return create_follower_job(self.api, ctx.name, ctx.namespace, ctx.uid, spec, ctx.status)

    def request_cutover(self, spec: MigrationSpec, sides: Sides, uid: str) -> None:
        cutover = spec.cutover
        self.capture.request_cutover(sides.target, uid, cutover.max_lag_seconds)

    def follow_record(self, spec: MigrationSpec, sides: Sides, uid: str) -> FollowRecord:
        return self.capture.read(sides.target, uid)

    def drop_capture(self, spec: MigrationSpec, sides: Sides, uid: str, outcome: str) -> str:
        return self.capture.drop(sides.source, sides.target, uid, outcome)

    def capture_health(self, spec: MigrationSpec, sides: Sides, uid: str) -> CaptureHealth:
        return self.capture.health(sides.source, uid)

    def connection_uses(self, namespace: str) -> list[ConnectionUse]:
        return list_uses(self.api, namespace)

    def now(self) -> datetime:
        return datetime.now(UTC)
