"""The Migration state machine: Pending → Planning → (AwaitingApproval) → Running → Validating →
Succeeded | Failed, plus Suspended, RollingBack and RolledBack.

Every step is idempotent and derives what to do from the stored status and the world (the
Job, the target schema), so an operator restart at any point neither duplicates a Job nor
loses progress: the Job name is deterministic per attempt, DDL is re-planned against the
target as it is, and the copy resumes from the checkpoints on the target.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from kubernetes import client

from ferry.api import conditions as c
from ferry.api.base import now_rfc3339
from ferry.api.kinds import MIGRATION
from ferry.api.migration import MigrationSpec, MigrationStatus, Phase
from ferry.db.credentials import SecretError, resolve_credentials
from ferry.kube.secrets import KubeSecretSource
from ferry.kube.status import patch_status
from ferry.kube.worker_job import SecretEnvCollision, secret_env, secret_keys_needed
from ferry.observability.redaction import redact
from ferry.schema import ApplyError, OpKind
from ferry.services.connection_refs import ready_connection
from ferry.services.fk_deferral import RestoreError
from ferry.services.planning import PlannedMigration, Side, plan_migration
from ferry.services.policy import governance_for, needs_approval, policy_violations
from ferry.services.progress import aggregate
from ferry.services.target_load import complete_target, prepare_target
from ferry.services.worker_jobs import create_worker_job, ensure_worker_rbac, read_worker_job

TERMINAL = frozenset({Phase.SUCCEEDED, Phase.FAILED, Phase.ROLLED_BACK})
MAX_ATTEMPTS = 3


class ReconcileError(Exception):
    """A step failed unexpectedly; status already says so. The controller retries with backoff."""


@dataclass
class MigrationContext:
    """One Migration as the handler saw it, parsed once."""

    name: str
    namespace: str
    uid: str
    generation: int
    spec: MigrationSpec
    status: MigrationStatus


@dataclass
class Outcome:
    """What the controller should do after a reconcile: events to post and when to look again."""

    requeue_after: float | None = None
    events: list[tuple[str, str, str]] = field(default_factory=list)  # (type, reason, message)


class MigrationReconciler:
    def __init__(self, api: client.ApiClient) -> None:
        self.api = api

    # -- status writing ---------------------------------------------------------------------

    def save(self, ctx: MigrationContext) -> None:
        """Write the operator-owned status fields (never `workers`, which the pods own)."""
        ctx.status.observed_generation = ctx.generation
        wire = ctx.status.to_wire()
        # A merge patch keeps fields it does not mention: unset top-level fields are sent as
        # null, or a cleared nextAttemptTime (say) would come back on the next read.
        for field_name, info in MigrationStatus.model_fields.items():
            if getattr(ctx.status, field_name) is None:
                wire[info.alias or field_name] = None
        wire.pop("workers", None)
        patch_status(self.api, MIGRATION, ctx.namespace, ctx.name, wire)

    def _phase(self, ctx: MigrationContext, phase: Phase, out: Outcome, message: str = "") -> None:
        if ctx.status.phase != phase:
            kind = "Warning" if phase in (Phase.FAILED, Phase.ROLLING_BACK) else "Normal"
            out.events.append(
                (kind, phase.value, message or f"phase {ctx.status.phase.value} → {phase.value}")
            )
        ctx.status.phase = phase
        ctx.status.message = message or None

    def _conditions(self, ctx: MigrationContext, ready: bool, reconciling: bool, reason: str, message: str,
                    stalled: bool = False) -> None:  # fmt: skip
        gen = ctx.generation
        st = ctx.status
        st.set_condition(c.READY, "True" if ready else "False", reason, message, gen)
        st.set_condition(
            c.RECONCILING, "True" if reconciling else "False", reason, message if reconciling else "", gen
        )
        if stalled:
            st.set_condition(c.STALLED, "True", reason, message, gen)
        else:
            st.remove_condition(c.STALLED)

    # -- entry point --------------------------------------------------------------------------

    def reconcile(self, ctx: MigrationContext) -> Outcome:
        out = Outcome()
        phase = ctx.status.phase
        if phase in TERMINAL:
            return out
        try:
            if phase == Phase.ROLLING_BACK:
                self._roll_back(ctx, out)
            elif phase in (Phase.PENDING, Phase.PLANNING, Phase.AWAITING_APPROVAL):
                self._prepare(ctx, out)
            elif phase in (Phase.RUNNING, Phase.SUSPENDED):
                self._supervise(ctx, out)
            elif phase == Phase.VALIDATING:
                self._validate(ctx, out)
        except Exception as exc:
            # Unexpected errors are retried by the controller; the user sees them in status meanwhile.
            message = f"{phase.value}: {type(exc).__name__}: {_first_line(exc)}; retrying"
            self._conditions(ctx, False, True, c.RECONCILE_ERROR, message)
            ctx.status.message = message
            self.save(ctx)
            raise ReconcileError(message) from exc
        self.save(ctx)
        return out

    # -- Pending / Planning / AwaitingApproval ------------------------------------------------

    def connected_sides(self, ctx: MigrationContext, out: Outcome) -> tuple[Side, Side] | None:
        spec = ctx.spec
        source, why_source = ready_connection(self.api, ctx.namespace, spec.source.connection_ref.name)
        target, why_target = ready_connection(self.api, ctx.namespace, spec.target.connection_ref.name)
        if source is None or target is None:
            message = why_source or why_target
            self._phase(ctx, Phase.PENDING, out, message)
            self._conditions(ctx, False, True, c.WAITING_FOR_CONNECTION, message)
            out.requeue_after = 5
            return None
        if target.read_only:
            message = f'target DatabaseConnection "{spec.target.connection_ref.name}" is readOnly'
            self._phase(ctx, Phase.PENDING, out, message)
            self._conditions(ctx, False, False, c.TARGET_READ_ONLY, message, stalled=True)
            return None
        secrets = KubeSecretSource(client.CoreV1Api(self.api), ctx.namespace)
        try:
            return (
                Side(source, resolve_credentials(source, secrets)),
                Side(target, resolve_credentials(target, secrets)),
            )
        except SecretError as exc:
            self._phase(ctx, Phase.PENDING, out, str(exc))
            self._conditions(ctx, False, True, c.WAITING_FOR_CONNECTION, str(exc))
            out.requeue_after = 10
            return None

    def _prepare(self, ctx: MigrationContext, out: Outcome) -> None:
        spec = ctx.spec
        governance = governance_for(self.api, ctx.namespace)
        problems = policy_violations(spec, governance.policy, spec.copy_.parallelism)
        if problems:
            message = f"Project {governance.project}: " + "; ".join(problems)
            self._phase(ctx, Phase.PENDING, out, message)
            self._conditions(ctx, False, False, c.POLICY_VIOLATION, message, stalled=True)
            return
        sides = self.connected_sides(ctx, out)
        if sides is None:
            return
        source, target = sides
        try:
            secret_env(secret_keys_needed(spec, source.spec, target.spec))
        except SecretEnvCollision as exc:
            self._phase(ctx, Phase.PENDING, out, str(exc))
            self._conditions(ctx, False, False, c.INVALID_SPEC, str(exc), stalled=True)
            return
        if ctx.status.phase == Phase.PENDING:
            # Visible before the (possibly long) reflection of both schemas starts.
            self._phase(ctx, Phase.PLANNING, out, "reflecting both schemas and planning")
            self._conditions(ctx, False, True, c.PLANNING, "reflecting both schemas and planning")
            self.save(ctx)
        try:
            planned = plan_migration(spec, source, target)
        except Exception as exc:
            message = f"planning failed: {type(exc).__name__}: {_first_line(exc)}"
            self._phase(ctx, Phase.PLANNING, out, message)
            self._conditions(ctx, False, True, c.PLAN_FAILED, message)
            out.requeue_after = 30
            return
        ctx.status.plan = planned.plan.to_status()
        errors = list(planned.plan.errors)
        if errors:
            message = "the plan cannot be applied: " + "; ".join(errors)
            self._phase(ctx, Phase.PLANNING, out, message)
            self._conditions(ctx, False, False, c.PLAN_FAILED, message, stalled=True)
            return
        counts = planned.plan.counts()
        approved = spec.approval.plan_hash == planned.plan.hash
        if needs_approval(counts, governance.policy, spec.schema_.allow_destructive) and not approved:
            self._await_approval(ctx, out, planned)
            return
        self._start(ctx, out, planned, target)

    def _await_approval(self, ctx: MigrationContext, out: Outcome, planned: PlannedMigration) -> None:
        counts = planned.plan.counts()
        what = ", ".join(f"{n} {risk}" for risk, n in counts.items() if n and risk != "safe")
        approve = f"approve with: kubectl ferry approve mig/{ctx.name} -n {ctx.namespace}"
        if ctx.spec.approval.plan_hash:
            reason = c.APPROVAL_STALE
            message = (
                f"the approved plan {ctx.spec.approval.plan_hash[:12]} is out of date (the schemas "
                f"changed); current plan {planned.plan.hash[:12]} has {what} operations; {approve}"
            )
        else:
            reason = c.AWAITING_APPROVAL
            message = f"plan {planned.plan.hash[:12]} has {what} operations; {approve}"
        self._phase(ctx, Phase.AWAITING_APPROVAL, out, message)
        self._conditions(ctx, False, False, reason, message)
        out.requeue_after = 15  # re-plan: a schema change must invalidate the pending plan

    def _start(self, ctx: MigrationContext, out: Outcome, planned: PlannedMigration, target: Side) -> None:
        deferred = prepare_target(target, ctx.uid, planned, ctx.spec.copy_.truncate_target)
        if deferred:
            out.events.append(
                ("Normal", c.FOREIGN_KEYS_DEFERRED, f"dropped {len(deferred)} foreign keys of existing "
                 "target tables for the load; they are re-created before validation")
            )  # fmt: skip
        pre_data = planned.plan.pre_data
        created = [op.qualified_table for op in pre_data if op.kind == OpKind.CREATE_TABLE]
        ctx.status.created_tables = sorted(set(ctx.status.created_tables) | set(created))
        estimate = sum(m.row_estimate for m in planned.mappings)
        ctx.status.progress = aggregate({}, len(planned.mappings), estimate, finished=False)[0]
        ctx.status.start_time = ctx.status.start_time or now_rfc3339()
        ensure_worker_rbac(self.api, ctx.namespace)
        ctx.status.attempts = max(ctx.status.attempts, 1)
        self._create_job(ctx)
        self._phase(ctx, Phase.RUNNING, out, f"copying {len(planned.mappings)} tables")
        self._conditions(ctx, False, True, c.RUNNING, f"job {ctx.status.job_name} is copying")
        out.requeue_after = 2

    def _create_job(self, ctx: MigrationContext) -> None:
        ctx.status.job_name = create_worker_job(
            self.api, ctx.name, ctx.namespace, ctx.uid, ctx.spec, ctx.status
        )

    # -- Running / Suspended -------------------------------------------------------------------

    def _supervise(self, ctx: MigrationContext, out: Outcome) -> None:
        st = ctx.status
        out.requeue_after = 2
        self._refresh_progress(ctx, finished=False)
        batch = client.BatchV1Api(self.api)
        if st.next_attempt_time:
            if datetime.now(UTC) < _parse_time(st.next_attempt_time):
                return
            st.next_attempt_time = None
            self._create_job(ctx)
            return
        job = read_worker_job(self.api, ctx.namespace, st.job_name)
        if job is None:
            # Deleted behind our back (or never created before a restart): recreate the same attempt.
            self._create_job(ctx)
            return
        if ctx.spec.suspend and st.phase == Phase.RUNNING:
            batch.patch_namespaced_job(st.job_name, ctx.namespace, {"spec": {"suspend": True}})
            self._phase(ctx, Phase.SUSPENDED, out, "suspended by spec.suspend; progress is checkpointed")
            self._conditions(ctx, False, False, c.SUSPENDED, "suspended by spec.suspend")
            return
        if not ctx.spec.suspend and st.phase == Phase.SUSPENDED:
            batch.patch_namespaced_job(st.job_name, ctx.namespace, {"spec": {"suspend": False}})
            self._phase(ctx, Phase.RUNNING, out, "resumed")
            self._conditions(ctx, False, True, c.RUNNING, f"job {st.job_name} is copying")
            return
        finished = {cond.type: cond.status for cond in (job.status.conditions or [])}
        if finished.get("Complete") == "True":
            self._phase(ctx, Phase.VALIDATING, out, "copy finished; validating")
            self._conditions(ctx, False, True, c.VALIDATING, "validating copied data")
            out.requeue_after = 0.5
        elif finished.get("Failed") == "True":
            self._job_failed(ctx, out)

    def _job_failed(self, ctx: MigrationContext, out: Outcome) -> None:
        st = ctx.status
        worker_messages = [w.message for w in st.workers.values() if w.state == "failed" and w.message]
        detail = "; ".join(sorted(set(worker_messages))) or "worker pods failed"
        if st.attempts < MAX_ATTEMPTS:
            delay = 10 * 2 ** (st.attempts - 1)
            st.attempts += 1
            st.next_attempt_time = (
                (datetime.now(UTC) + timedelta(seconds=delay)).isoformat().replace("+00:00", "Z")
            )
            message = f"attempt {st.attempts - 1} failed ({detail}); retrying in {delay}s"
            out.events.append(("Warning", c.JOB_FAILED, message))
            self._conditions(ctx, False, True, c.JOB_FAILED, message)
            return
        self._fail(ctx, out, c.JOB_FAILED, f"{MAX_ATTEMPTS} attempts failed: {detail}")

    def _fail(
        self, ctx: MigrationContext, out: Outcome, reason: str, message: str, restore: bool = True
    ) -> None:
        ctx.status.completion_time = now_rfc3339()
        if ctx.spec.rollback.on_failure.value != "keep":
            self._phase(ctx, Phase.ROLLING_BACK, out, message)
            self._conditions(ctx, False, True, c.ROLLING_BACK, message)
            out.requeue_after = 0.5
            return
        if restore:
            message += self._restore_foreign_keys(ctx)
        self._phase(ctx, Phase.FAILED, out, message)
        self._conditions(ctx, False, False, reason, message, stalled=True)

    def _restore_foreign_keys(self, ctx: MigrationContext) -> str:
        """The target is kept as the failure left it, with its own foreign keys back if the rows allow."""
        from ferry.services.rollback import restore_note

        sides = self.connected_sides(ctx, Outcome())
        if sides is None:
            return "; foreign keys set aside for the load may still be dropped (the target is not reachable)"
        return restore_note(sides[1], ctx.uid)

    def _refresh_progress(self, ctx: MigrationContext, finished: bool) -> None:
        st = ctx.status
        current = st.progress
        progress, tables, omitted = aggregate(
            st.workers,
            current.tables_total if current else 0,
            current.rows_estimated if current else 0,
            finished,
        )
        st.progress, st.tables, st.tables_omitted = progress, tables, omitted

    # -- Validating ------------------------------------------------------------------------------

    def _validate(self, ctx: MigrationContext, out: Outcome) -> None:
        from ferry.services.validation import validate_migration

        sides = self.connected_sides(ctx, out)
        if sides is None:
            return
        self._refresh_progress(ctx, finished=True)
        # Before validating, so the ordered checksum reads use the key; idempotent after a restart.
        try:
            complete_target(ctx.spec, *sides, ctx.uid, owned_tables=ctx.status.created_tables)
        except RestoreError as exc:
            self._fail(ctx, out, c.VALIDATION_FAILED, f"{exc}; it stays recorded", restore=False)
            return
        except ApplyError as exc:
            self._fail(ctx, out, c.VALIDATION_FAILED, f"building keys and indexes failed: {_first_line(exc)}")
            return
        secrets = KubeSecretSource(client.CoreV1Api(self.api), ctx.namespace)  # transform keys
        report = validate_migration(ctx.spec, *sides, migration_uid=ctx.uid, secrets=secrets)
        for table in ctx.status.tables:
            table.validation = report.per_table.get(table.name, table.validation)
            if table.state == "done":
                table.state = "validated" if report.ok else table.state
        if not report.ok:
            self._fail(ctx, out, c.VALIDATION_FAILED, report.summary)
            return
        ctx.status.completion_time = now_rfc3339()
        self._phase(ctx, Phase.SUCCEEDED, out, report.summary)
        self._conditions(ctx, True, False, c.SUCCEEDED, report.summary)

    # -- RollingBack -------------------------------------------------------------------------------

    def _roll_back(self, ctx: MigrationContext, out: Outcome) -> None:
        from ferry.services.rollback import roll_back

        sides = self.connected_sides(ctx, out)
        if sides is None:
            return
        done = roll_back(
            ctx.spec,
            ctx.spec.rollback.on_failure.value,
            sides[0],
            sides[1],
            ctx.status.created_tables,
            ctx.uid,
        )
        message = (
            f"rolled back ({ctx.spec.rollback.on_failure.value}): {done}; failure: {ctx.status.message or ''}"
        )
        self._phase(ctx, Phase.ROLLED_BACK, out, message)
        self._conditions(ctx, False, False, c.ROLLED_BACK, message, stalled=True)


def _first_line(exc: BaseException) -> str:
    """The first line of an error, scrubbed of anything that looks like a credential."""
    return redact((str(exc).strip().splitlines() or [""])[0][:500])


def _parse_time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
