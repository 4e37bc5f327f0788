"""The Migration state machine: Pending → Planning → (AwaitingApproval) → Running → Validating →
Succeeded | Failed, plus Suspended, RollingBack and RolledBack; online mode goes Running →
Following → CuttingOver → Validating (ferry.services.following).

The reconciler decides; `MigrationPorts` (ferry.services.migration_ports) acts, so every
transition is unit-tested with a fake. Status changes only through the named transitions of
`MigrationStatus` (`mark_running`, `mark_failed`, …), which return the events to post.

Every step is idempotent and derives what to do from the stored status and the world (the
Job, the target schema), so an operator restart at any point neither duplicates a Job nor
loses progress: the Job name is deterministic per attempt, DDL is re-planned against the
target as it is, and the copy resumes from the checkpoints on the target.
"""

from __future__ import annotations

from ferry.api import conditions as c
from ferry.api.base import now_rfc3339, parse_rfc3339, rfc3339
from ferry.api.migration import (
    TERMINAL,
    JobKind,
    MigrationSpec,
    Phase,
    RollbackAction,
    StatusEvent,
)
from ferry.observability.crashpoint import crash_point
from ferry.observability.errors import describe
from ferry.schema import OpKind
from ferry.services import following, validating
from ferry.services.admission import admit
from ferry.services.approvals import tally
from ferry.services.attempts import MAX_ATTEMPTS, attempt_failure, attempt_refusal, schedule_retry
from ferry.services.deletion import RollbackBlocked as RollbackBlocked  # raised by finalize
from ferry.services.deletion import finalize_on_delete
from ferry.services.effective import apply_effective, effective_spec
from ferry.services.gate import Verdict, decide
from ferry.services.migration_ports import JobState, MigrationContext, MigrationPorts, Sides
from ferry.services.outcome import Outcome
from ferry.services.planning import PlannedMigration
from ferry.services.pod_usage import refresh_usage
from ferry.services.progress import aggregate, database_outage, refresh_progress
from ferry.services.replan import plan_basis, plan_holds
from ferry.services.run_report import record_run
from ferry.services.schedule import window_state
from ferry.services.sides import NotReady, resolve_sides

# Unclassified errors in a row before the Migration is marked Stalled instead of retried again;
# a spec change (a new generation) starts a new series.
MAX_RECONCILE_ERRORS = 5
APPROVAL_RECHECK_SECONDS = 15  # a pending plan's basis checked (replan); approvals wake it sooner
PLAN_RETRY_SECONDS = 30
SUPERVISE_SECONDS = 2
OUTSIDE_WINDOW_RECHECK_SECONDS = 60  # planned, outside the windows: re-planned this often until one opens


class MigrationReconciler:
    def __init__(self, ports: MigrationPorts) -> None:
        self.ports = ports

    # -- entry points ---------------------------------------------------------------------------

    def reconcile(self, ctx: MigrationContext) -> Outcome:
        out = Outcome()
        st = ctx.status
        if validating.repair_requested(ctx):  # kubectl ferry repair on a failed validation
            out.emit(validating.start_repair(ctx))
            out.requeue_after = 0.5
            self.ports.save_status(ctx)
            return out
        if st.phase in TERMINAL:
            record_run(self.ports, ctx)
            self._observe_finished(ctx)
            return out
        if self._gave_up(ctx):
            return out
        phase = st.phase
        try:
            if phase == Phase.ROLLING_BACK:
                self._roll_back(ctx, out)
            elif phase in (Phase.PENDING, Phase.PLANNING, Phase.AWAITING_APPROVAL):
                self._prepare(ctx, out)
            elif phase in (Phase.RUNNING, Phase.SUSPENDED, Phase.FOLLOWING, Phase.CUTTING_OVER):
                self._supervise(ctx, out)
            elif phase == Phase.VALIDATING:
                self._validate(ctx, out)
            self._recovered(ctx, out)
        except Exception as exc:
            self._unclassified(ctx, out, phase, exc)
        record_run(self.ports, ctx, save=False)
        self.ports.save_status(ctx)
        return out

    def finalize(self, ctx: MigrationContext, waited: float = 0.0) -> StatusEvent | None:
        """On delete: spec.rollback.onDelete (ferry.services.deletion); a run that started is
        reported first (ferry.services.run_report)."""
        record_run(self.ports, ctx, save=False, deleted=True)
        return finalize_on_delete(self.ports, ctx, waited)

    def _observe_finished(self, ctx: MigrationContext) -> None:
        """A spec change after the end does not run the migration again, but it is observed:
        kstatus (Flux, Argo CD) reads `observedGeneration < generation` as still in progress."""
        st = ctx.status
        if st.observed_generation == ctx.generation:
            return
        st.observed_generation = ctx.generation
        for condition in st.conditions:
            condition.observed_generation = ctx.generation
        self.ports.save_status(ctx)

    # -- errors ---------------------------------------------------------------------------------

    def _gave_up(self, ctx: MigrationContext) -> bool:
        """Stalled by repeated unclassified errors: wait for the user to change the spec."""
        st = ctx.status
        if st.reconcile_errors < MAX_RECONCILE_ERRORS:
            return False
        if st.observed_generation == ctx.generation:
            return True
        st.reconcile_errors = 0
        return False

    def _recovered(self, ctx: MigrationContext, out: Outcome) -> None:
        """A step went through after errors: clear the error series, and its condition when the
        step itself made no transition."""
        st = ctx.status
        st.reconcile_errors = 0
        ready = st.condition(c.READY)
        if ready is None or ready.reason != c.RECONCILE_ERROR:
            return
        if st.phase == Phase.SUSPENDED:
            out.emit(following.mark_suspended(ctx))
        elif st.phase == Phase.VALIDATING:
            out.emit(st.mark_validating(ctx.generation))
        else:
            out.emit(following.back_to_work(ctx))

    def _unclassified(self, ctx: MigrationContext, out: Outcome, phase: Phase, exc: Exception) -> None:
        st = ctx.status
        st.reconcile_errors += 1
        tries = st.reconcile_errors
        stalled = tries >= MAX_RECONCILE_ERRORS
        if stalled:
            message = f"{phase.value}: {describe(exc)}; gave up after {tries} tries: change the spec to retry"
            out.requeue_after = None
        else:
            message = f"{phase.value}: {describe(exc)}; retrying (try {tries} of {MAX_RECONCILE_ERRORS})"
            out.requeue_after = min(5.0 * 2 ** (tries - 1), 120.0)
        out.emit(st.mark_error(message, ctx.generation, stalled=stalled))
        if tries == 1 or stalled:
            out.events.append(StatusEvent("Warning", c.RECONCILE_ERROR, message))

    # -- Pending / Planning / AwaitingApproval ----------------------------------------------------

    def _prepare(self, ctx: MigrationContext, out: Outcome) -> None:
        st, gen = ctx.status, ctx.generation
        governance = self.ports.governance(ctx.namespace)
        spec, st.effective = effective_spec(ctx.spec, governance.defaults, governance.policy)
        admitted = admit(self.ports, ctx, spec, governance, out)
        if admitted is None:
            return
        sides, window = admitted.sides, admitted.window
        read = self.ports.approvals(ctx.namespace, ctx.name)  # once: part of the basis, then judged
        basis = plan_basis(self.ports, ctx, spec, sides, governance, read)
        if plan_holds(ctx, basis):  # nothing the plan depends on changed: the status holds
            out.requeue_after = APPROVAL_RECHECK_SECONDS if st.phase == Phase.AWAITING_APPROVAL else None
            return
        if st.phase == Phase.PENDING:
            out.emit(st.mark_planning(gen))
            self.ports.save_status(ctx)  # visible before the (possibly long) reflection of both schemas
        try:
            planned = self.ports.plan(spec, sides, list(st.created_tables))
        except Exception as exc:
            message = f"planning failed: {describe(exc)}"
            out.emit(st.mark_waiting(c.PLAN_FAILED, message, gen, Phase.PLANNING))
            out.requeue_after = PLAN_RETRY_SECONDS
            return
        st.plan, ctx.plan_basis = planned.plan.to_status(), basis
        st.plan.config_map = self.ports.publish_plan(ctx, planned.plan, sides.target.dialect)
        approvals = tally(read.approvals, planned.plan.hash, governance.policy.approvals, ctx.author,
                          verified=read.verified)  # fmt: skip
        st.approvals = list(approvals.entries[:64])  # each counted or not, with why
        approve = f"approve with: kubectl ferry approve mig/{ctx.name} -n {ctx.namespace}"
        decision = decide(spec, planned.plan, governance, target_read_only=sides.target.spec.read_only,
                          approve_hint=approve, approvals=approvals)  # fmt: skip
        if decision.verdict in (Verdict.NEEDS_APPROVAL, Verdict.APPROVAL_STALE):
            out.emit(st.mark_awaiting_approval(decision.reason, decision.message, gen))
            out.requeue_after = APPROVAL_RECHECK_SECONDS
        elif not decision.may_run:
            phase = Phase.PLANNING if decision.verdict == Verdict.PLAN_ERRORS else Phase.PENDING
            reason = c.CAPTURE_NOT_READY if planned.capture_problems else decision.reason
            out.emit(st.mark_stalled(reason, decision.message, gen, phase))
        elif not window.inside and window.until is not None:
            # Planned (and approved) outside the windows: the copy starts when the next one opens.
            opens = rfc3339(window.until)
            message = f"the plan may run; the copy starts when the next maintenance window opens, at {opens}"
            out.emit(st.mark_waiting(c.OUTSIDE_WINDOW, message, gen, Phase.PENDING))
            out.requeue_after = min(
                OUTSIDE_WINDOW_RECHECK_SECONDS, (window.until - self.ports.now()).total_seconds()
            )
        else:
            self._start(ctx, spec, out, planned, sides)

    def _start(
        self,
        ctx: MigrationContext,
        spec: MigrationSpec,
        out: Outcome,
        planned: PlannedMigration,
        sides: Sides,
    ) -> None:
        """Each action is recorded before it is taken, so an operator killed in between finds it on
        restart: the tables about to be created (else a re-plan no longer owns them), and Running
        with the Job's plan before the Job exists (`_supervise` then creates or adopts that Job;
        a re-plan would give it a plan hash its workers refuse)."""
        st = ctx.status
        created = [op.qualified_table for op in planned.plan.pre_data if op.kind == OpKind.CREATE_TABLE]
        st.created_tables = sorted(set(st.created_tables) | set(created))
        st.start_time = st.start_time or now_rfc3339()
        self.ports.save_status(ctx)
        deferred = self.ports.prepare_target(spec, sides, ctx.uid, planned)
        if deferred:
            out.events.append(
                StatusEvent("Normal", c.FOREIGN_KEYS_DEFERRED, f"dropped {deferred} foreign keys of existing "
                            "target tables for the load; they are re-created before validation")
            )  # fmt: skip
        estimate = sum(m.row_estimate for m in planned.mappings)
        st.progress = aggregate({}, len(planned.mappings), estimate, finished=False)[0]
        if following.is_online(spec):
            out.emit(following.open_capture(self.ports, ctx, spec, planned, sides))
        self.ports.ensure_worker_rbac(ctx, spec)
        st.attempts = max(st.attempts, 1)
        tables = len(planned.mappings)
        out.emit(st.mark_running(f"copying {tables} tables", ctx.generation))
        self.ports.save_status(ctx)  # Running before the Job exists: a restart creates or adopts it
        st.job_name = self.ports.create_job(ctx, spec)
        crash_point("job-created")
        st.mark_running(f"copying {tables} tables with job {st.job_name}", ctx.generation)
        out.requeue_after = SUPERVISE_SECONDS

    # -- Running / Suspended ------------------------------------------------------------------------

    def _supervise(self, ctx: MigrationContext, out: Outcome) -> None:
        """The Job of the current attempt: the copy's, or (online) the follower's."""
        st, gen, spec = ctx.status, ctx.generation, self._spec(ctx)
        out.requeue_after = SUPERVISE_SECONDS
        follower = st.job_kind == JobKind.FOLLOWER
        if follower:
            refresh_usage(ctx.status)  # the follower's CPU time; the copy's figures stay as they ended
            if following.stalled_by_schema_change(ctx):
                spec_changed = st.observed_generation != gen
                if spec_changed and not self._attempt_refused(ctx, spec, out, "follower job"):
                    following.follow_again(self.ports, ctx, spec, out)
                return
            following.check_capture(self.ports, ctx, spec, out)
        else:
            refresh_progress(ctx.status, finished=False)
        if st.next_attempt_time:
            if self.ports.now() < parse_rfc3339(st.next_attempt_time):
                return
            st.next_attempt_time = None
            if self._attempt_refused(ctx, spec, out):
                return
            st.job_name = following.create_job(self.ports, ctx, spec)
            out.emit(following.back_to_work(ctx, f"attempt {st.attempts}: "))
            return
        job = self.ports.job_state(ctx.namespace, st.job_name)
        if job == JobState.MISSING:
            # Deleted behind our back (or never created before a restart): recreate the same attempt.
            if not self._attempt_refused(ctx, spec, out):
                st.job_name = following.create_job(self.ports, ctx, spec)
            return
        assert st.job_name is not None  # a Job exists, so it has a name
        window = window_state(spec.schedule.windows, self.ports.now())
        hold = c.SUSPENDED if ctx.spec.suspend else None if window.inside else c.OUTSIDE_WINDOW
        ready = st.condition(c.READY)
        if hold and not (st.phase == Phase.SUSPENDED and ready is not None and ready.reason == hold):
            if st.phase != Phase.SUSPENDED:
                self.ports.suspend_job(ctx.namespace, st.job_name, True)
            reopens = rfc3339(window.until) if hold == c.OUTSIDE_WINDOW and window.until else None
            out.emit(following.mark_suspended(ctx, reopens))
        elif hold:
            return  # stays suspended; the timer checks again
        elif st.phase == Phase.SUSPENDED:
            self.ports.suspend_job(ctx.namespace, st.job_name, False)
            out.emit(following.back_to_work(ctx, "resumed; "))
        elif job == JobState.COMPLETE and follower:
            following.finish(self.ports, ctx, spec, out)
        elif job == JobState.COMPLETE and following.is_online(spec):
            refresh_progress(ctx.status, finished=True)
            if not self._attempt_refused(ctx, spec, out, "follower job"):
                following.start_following(self.ports, ctx, spec, out)
        elif job == JobState.COMPLETE:
            out.emit(st.mark_validating(gen))
            out.requeue_after = 0.5
        elif job == JobState.FAILED and follower and following.ended_by_schema_change(ctx):
            out.emit(following.schema_change_stall(ctx))
        elif job == JobState.FAILED:
            self._job_failed(ctx, spec, out)
        elif follower:
            following.watch(self.ports, ctx, spec, out)
        else:
            out.emit(database_outage(ctx))

    def _attempt_refused(
        self, ctx: MigrationContext, spec: MigrationSpec, out: Outcome, attempt: str | None = None
    ) -> bool:
        """The Project's policy, checked again before every Job attempt and before the follower
        starts or starts again (ferry.services.attempts)."""
        attempt = attempt or f"attempt {ctx.status.attempts}"
        refusal = attempt_refusal(self.ports, ctx.namespace, spec, attempt)
        if refusal is not None:
            self._fail(ctx, spec, out, refusal.reason, refusal.message)
        return refusal is not None

    def _job_failed(self, ctx: MigrationContext, spec: MigrationSpec, out: Outcome) -> None:
        detail, reason = attempt_failure(ctx.status)
        if ctx.status.attempts < MAX_ATTEMPTS:
            out.emit(schedule_retry(ctx, self.ports.now(), detail, reason))
            return
        self._fail(ctx, spec, out, c.JOB_FAILED, f"{MAX_ATTEMPTS} attempts failed: {detail}")

    def _fail(
        self, ctx: MigrationContext, spec: MigrationSpec, out: Outcome, reason: str, message: str,
        restore: bool = True,
    ) -> None:  # fmt: skip
        st, gen, now = ctx.status, ctx.generation, now_rfc3339()
        message += following.release(self.ports, ctx, spec, "failed")
        if spec.rollback.on_failure != RollbackAction.KEEP:
            out.emit(st.mark_rolling_back(message, gen, now))
            out.requeue_after = 0.5
            return
        if restore:
            message += self._restore_note(ctx, spec)
        out.emit(st.mark_failed(reason, message, gen, now))

    def _restore_note(self, ctx: MigrationContext, spec: MigrationSpec) -> str:
        """The target is kept as the failure left it, with its own foreign keys back if the rows allow."""
        sides = resolve_sides(self.ports, ctx.namespace, spec)
        if isinstance(sides, NotReady):
            return "; foreign keys set aside for the load may still be dropped (the target is not reachable)"
        return self.ports.restore_foreign_keys(sides.target, ctx.uid)

    # -- Validating ------------------------------------------------------------------------------------

    def _validate(self, ctx: MigrationContext, out: Outcome) -> None:
        st, gen, spec = ctx.status, ctx.generation, self._spec(ctx)
        sides = resolve_sides(self.ports, ctx.namespace, spec)
        if isinstance(sides, NotReady):
            out.emit(st.mark_waiting(sides.reason, sides.message, gen, Phase.VALIDATING))
            out.requeue_after = sides.retry_after
            return
        refresh_progress(ctx.status, finished=True)
        try:
            report = validating.report(self.ports, ctx, spec, sides, out)
        except validating.ValidationStopped as exc:
            self._fail(ctx, spec, out, c.VALIDATION_FAILED, str(exc), restore=exc.restore)
            return
        if report is None:
            return  # the validation Job runs
        if not validating.record(ctx, report):
            self._fail(
                ctx,
                spec,
                out,
                c.VALIDATION_FAILED,
                report.summary + validating.repair_hint(ctx, spec, report),
            )
            return
        cut = following.cutover_completed(ctx, self.ports.now()) if following.is_online(spec) else ""
        out.emit(st.mark_succeeded(cut + report.summary, gen, now_rfc3339()))
        # Nothing resumes a succeeded copy; its validation's range results stay as the evidence
        # until the Migration is deleted.
        self.ports.forget_checkpoints(sides.target, ctx.uid, validation_results=False)

    # -- RollingBack ---------------------------------------------------------------------------------

    def _roll_back(self, ctx: MigrationContext, out: Outcome) -> None:
        st, spec = ctx.status, self._spec(ctx)
        sides = resolve_sides(self.ports, ctx.namespace, spec)
        if isinstance(sides, NotReady):
            out.emit(st.mark_waiting(sides.reason, sides.message, ctx.generation, Phase.ROLLING_BACK))
            out.requeue_after = sides.retry_after
            return
        action = spec.rollback.on_failure.value
        done = self.ports.roll_back(spec, action, sides, st.created_tables, ctx.uid)
        crash_point("rolled-back")
        failure = st.condition(c.READY)
        why = failure.message if failure and failure.reason == c.ROLLING_BACK else st.message or ""
        out.emit(st.mark_rolled_back(f"rolled back ({action}): {done}; failure: {why}", ctx.generation))

    # -- helpers -------------------------------------------------------------------------------------

    @staticmethod
    def _spec(ctx: MigrationContext) -> MigrationSpec:
        """The spec with the settings that were in effect when the migration was planned."""
        return apply_effective(ctx.spec, ctx.status.effective)
