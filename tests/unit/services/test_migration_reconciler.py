"""Every transition of the Migration reconciler, through fake ports: no apiserver, no database."""

from __future__ import annotations

from datetime import timedelta

import pytest

from ferry.api import conditions as c
from ferry.api.migration import Phase, TableState, TableStatus, WorkerState, WorkerStatus
from ferry.api.project import ConnectionRules, ProjectDefaults, ProjectPolicy
from ferry.api.resources import DEFAULT_JOB_RESOURCES, JobPlacement, ResourceRequirements
from ferry.copy.validate import TableValidation
from ferry.schema import AppliedRecord, ApplyError
from ferry.services.deletion import DELETE_ROLLBACK_GIVE_UP_SECONDS
from ferry.services.effective import with_project_placement
from ferry.services.fk_deferral import RestoreError
from ferry.services.migration import (
    MAX_ATTEMPTS,
    MAX_RECONCILE_ERRORS,
    MigrationReconciler,
    Outcome,
    RollbackBlocked,
)
from ferry.services.migration_ports import JobState, MigrationContext
from ferry.services.policy import Governance
from ferry.services.validation import ValidationReport
from unit.services.fake_ports import FakePorts, connection, context, drop_column, plan, spec


def _cond(ctx: MigrationContext, type_: str) -> tuple[str, str] | None:
    found = ctx.status.condition(type_)
    return (found.status, found.reason) if found else None


def _health(ctx: MigrationContext) -> tuple[Phase, str | None, str | None, str | None]:
    """Phase and the Ready/Reconciling/Stalled statuses, as kstatus reads them."""
    st = ctx.status
    ready, reconciling, stalled = (st.condition(t) for t in (c.READY, c.RECONCILING, c.STALLED))
    return (
        st.phase,
        ready.status if ready else None,
        reconciling.status if reconciling else None,
        stalled.status if stalled else None,
    )


def _run(ports: FakePorts, ctx: MigrationContext) -> Outcome:
    return MigrationReconciler(ports).reconcile(ctx)


def _to_running(ports: FakePorts, ctx: MigrationContext) -> None:
    _run(ports, ctx)
    assert ctx.status.phase == Phase.RUNNING, ctx.status.message


# -- Pending / Planning / AwaitingApproval ------------------------------------------------------


def test_pending_plans_and_starts_the_first_attempt() -> None:
    ports, ctx = FakePorts(), context()
    out = _run(ports, ctx)
    # Planning is saved before the plan is made (reflection can be long); the tables about to be
    # created before the target is prepared; Running (with the plan of the Job) before the Job
    # exists; then the Job's name.
    assert [s.phase for s in ports.saved] == [Phase.PLANNING, Phase.PLANNING, Phase.RUNNING, Phase.RUNNING]
    assert ports.saved[1].created_tables == ["public.orders"] and ports.saved[1].start_time
    assert ports.saved[2].job_name is None and ports.saved[2].plan is not None
    assert ctx.status.message == "copying 1 tables with job shop-1"
    assert _health(ctx) == (Phase.RUNNING, "False", "True", None)
    assert _cond(ctx, c.READY) == ("False", c.RUNNING)
    assert ctx.status.observed_generation == 1
    assert ctx.status.attempts == 1 and ctx.status.job_name == "shop-1"
    assert ctx.status.created_tables == ["public.orders"]
    assert ports.actions() == ["fingerprint", "plan", "prepare_target", "rbac"]
    assert [e.reason for e in out.events] == [Phase.PLANNING, Phase.RUNNING]
    assert all(e.type == "Normal" for e in out.events)
    assert out.requeue_after == 2


def test_a_restart_after_running_was_recorded_but_before_the_job_existed_creates_that_job() -> None:
    """The operator was killed between recording Running and creating the Job (or between
    creating it and recording its name): the next reconcile creates (or adopts) the Job of the
    recorded attempt and plan, and plans nothing again."""
    ports, ctx = FakePorts(), context()
    _run(ports, ctx)
    recorded = ports.saved[2]
    assert recorded.phase == Phase.RUNNING and recorded.job_name is None
    restarted, after = FakePorts(), context()
    after.status = recorded.model_copy(deep=True)
    _run(restarted, after)
    assert [(name, attempt) for name, attempt, _ in restarted.created_jobs] == [("shop-1", 1)]
    assert after.status.phase == Phase.RUNNING and after.status.job_name == "shop-1"
    assert "plan" not in restarted.actions() and "prepare_target" not in restarted.actions()


def test_connection_not_ready_waits_without_planning() -> None:
    ports = FakePorts(connections={"src": connection(), "dst": 'DatabaseConnection "dst" is not Ready'})
    ctx = context()
    out = _run(ports, ctx)
    assert _health(ctx) == (Phase.PENDING, "False", "True", None)
    assert _cond(ctx, c.READY) == ("False", c.WAITING_FOR_CONNECTION)
    assert ctx.status.message == 'DatabaseConnection "dst" is not Ready'
    assert "plan" not in ports.actions() and out.requeue_after == 5


def test_a_missing_secret_waits_and_names_it() -> None:
    ports, ctx = FakePorts(missing_secret="creds"), context()
    _run(ports, ctx)
    assert _cond(ctx, c.READY) == ("False", c.WAITING_FOR_CONNECTION)
    assert ctx.status.message == 'Secret "creds" not found'


def test_policy_violation_stalls_before_any_database_is_read() -> None:
    policy = ProjectPolicy(allowed_connections=["prod-*"])
    ports, ctx = FakePorts(governance_=Governance("team-a", policy)), context()
    _run(ports, ctx)
    assert _health(ctx) == (Phase.PENDING, "False", "False", "True")
    assert _cond(ctx, c.STALLED) == ("True", c.POLICY_VIOLATION)
    assert ctx.status.message is not None and ctx.status.message.startswith("Project team-a: ")
    assert ports.calls == []


def test_a_connection_the_project_rules_refuse_stalls_before_any_database_is_read() -> None:
    # The connection was Ready when the rules allowed it; they were tightened since.
    rules = ConnectionRules(allowed_hosts=["*.prod.internal"])
    ports, ctx = FakePorts(governance_=Governance("team-a", ProjectPolicy(connections=rules))), context()
    out = _run(ports, ctx)
    assert _health(ctx) == (Phase.PENDING, "False", "False", "True")
    assert _cond(ctx, c.STALLED) == ("True", c.HOST_NOT_ALLOWED)
    assert ctx.status.message is not None
    assert ctx.status.message.startswith('source DatabaseConnection "src": spec.host: host "db.example"')
    assert ports.calls == [] and out.requeue_after == 30  # re-checked: the rules may change back


def test_a_secret_the_project_rules_refuse_is_not_read() -> None:
    rules = ConnectionRules(allowed_secrets=["team-*"])
    ports, ctx = FakePorts(governance_=Governance("team-a", ProjectPolicy(connections=rules))), context()
    _run(ports, ctx)
    assert _cond(ctx, c.STALLED) == ("True", c.SECRET_NOT_ALLOWED)
    assert ctx.status.message is not None and 'Secret "creds" is not allowed' in ctx.status.message
    assert ports.secrets_read == [] and ports.calls == []


def test_a_read_only_target_stalls() -> None:
    ports = FakePorts(connections={"src": connection(), "dst": connection(read_only=True)})
    ctx = context()
    _run(ports, ctx)
    assert _cond(ctx, c.STALLED) == ("True", c.TARGET_READ_ONLY)
    assert ports.created_jobs == []


def test_plan_failure_is_retried_in_planning() -> None:
    ports, ctx = FakePorts(planned=RuntimeError("connection reset by peer")), context()
    out = _run(ports, ctx)
    assert _health(ctx) == (Phase.PLANNING, "False", "True", None)
    assert _cond(ctx, c.READY) == ("False", c.PLAN_FAILED)
    assert ctx.status.message == "planning failed: RuntimeError: connection reset by peer"
    assert out.requeue_after == 30


def test_a_plan_with_errors_stalls() -> None:
    ports, ctx = FakePorts(planned=plan(errors=("orders: target table does not exist",))), context()
    _run(ports, ctx)
    assert _health(ctx) == (Phase.PLANNING, "False", "False", "True")
    assert _cond(ctx, c.STALLED) == ("True", c.PLAN_FAILED)
    assert ports.created_jobs == []


def test_a_destructive_plan_awaits_approval() -> None:
    planned = plan(drop_column())
    ports, ctx = FakePorts(planned=planned), context()
    out = _run(ports, ctx)
    assert _health(ctx) == (Phase.AWAITING_APPROVAL, "False", "False", None)
    assert _cond(ctx, c.READY) == ("False", c.AWAITING_APPROVAL)
    assert ctx.status.plan is not None and ctx.status.plan.destructive == 1
    assert "kubectl ferry approve mig/shop -n team-a" in (ctx.status.message or "")
    assert ports.created_jobs == [] and out.requeue_after == 15
    # Reviewers read the whole plan (not the status summary) from the ConfigMap status names.
    assert ports.published_plans == [(planned.plan.hash, "postgresql")]
    assert ctx.status.plan.config_map == "ferry-plan-shop"


def test_a_stale_approval_is_reported_and_does_not_run() -> None:
    ports = FakePorts(planned=plan(drop_column()))
    ctx = context(spec(approval={"planHash": "0" * 64}))
    _run(ports, ctx)
    assert _cond(ctx, c.READY) == ("False", c.APPROVAL_STALE)
    assert ctx.status.message is not None and "out of date" in ctx.status.message
    assert ports.created_jobs == []


def test_an_approved_plan_runs() -> None:
    planned = plan(drop_column())
    ports, ctx = FakePorts(planned=planned), context()
    _run(ports, ctx)
    assert ctx.status.phase == Phase.AWAITING_APPROVAL
    ctx.spec = spec(approval={"planHash": planned.plan.hash})
    ctx.generation = 2
    _run(ports, ctx)
    assert ctx.status.phase == Phase.RUNNING and ctx.status.observed_generation == 2
    assert len(ports.created_jobs) == 1


def test_deferred_foreign_keys_are_announced() -> None:
    ports, ctx = FakePorts(deferred_keys=11), context()
    out = _run(ports, ctx)
    assert any(e.reason == c.FOREIGN_KEYS_DEFERRED and "11 foreign keys" in e.message for e in out.events)


# -- Project defaults --------------------------------------------------------------------------


def test_project_defaults_fill_what_the_migration_omits_and_reach_the_job() -> None:
    defaults = ProjectDefaults(batch_size=1234, parallelism=3, checksum_validation=True)
    ports = FakePorts(governance_=Governance("team-a", ProjectPolicy(), defaults))
    ctx = context(spec(copy={"parallelism": 1}))
    _run(ports, ctx)
    effective = ctx.status.effective
    assert effective is not None
    assert (effective.batch_size, effective.parallelism, effective.checksum_validation) == (1234, 1, True)
    assert effective.from_project == ["copy.batchSize", "validation.checksum"]
    job_spec = ports.created_jobs[0][2]
    assert (job_spec.copy_.batch_size, job_spec.copy_.parallelism, job_spec.validation.checksum) == (
        1234,
        1,
        True,
    )


def test_worker_resources_come_from_the_migration_else_the_project_else_ferry() -> None:
    # Without any, a Project quota on requests.cpu/memory would refuse every worker pod.
    ports, ctx = FakePorts(), context()
    _run(ports, ctx)
    assert ports.created_jobs[0][2].job.resources == DEFAULT_JOB_RESOURCES
    assert DEFAULT_JOB_RESOURCES.requests and DEFAULT_JOB_RESOURCES.limits
    project = ResourceRequirements(requests={"cpu": "2", "memory": "1Gi"})
    ports = FakePorts(
        governance_=Governance("team-a", ProjectPolicy(), ProjectDefaults(job_resources=project))
    )
    ctx = context()
    _run(ports, ctx)
    assert ports.created_jobs[0][2].job.resources == project
    assert ctx.status.effective is not None and ctx.status.effective.from_project == ["job.resources"]
    # `resources: {}` on the Migration opts out, Project defaults notwithstanding.
    ctx = context(spec(job={"resources": {}}))
    _run(ports, ctx)
    assert ports.created_jobs[-1][2].job.resources == ResourceRequirements()


def test_a_migration_cannot_place_its_own_pods() -> None:
    # Admission refuses these fields; an object admitted before that rule is refused here.
    selector = spec(job={"nodeSelector": {"pool": "gpu"}, "tolerations": [{"operator": "Exists"}]})
    ports, ctx = FakePorts(), context(selector)
    _run(ports, ctx)
    assert _cond(ctx, c.STALLED) == ("True", c.POLICY_VIOLATION)
    assert ctx.status.message is not None
    assert "spec.job.nodeSelector is not allowed: worker pods are placed by the Project" in ctx.status.message
    assert "spec.job.tolerations is not allowed" in ctx.status.message
    assert ports.created_jobs == [] and ports.calls == []


def test_worker_placement_comes_from_the_project() -> None:
    placement = JobPlacement.model_validate(
        {"nodeSelector": {"pool": "batch"}, "tolerations": [{"key": "batch", "operator": "Exists"}]}
    )
    defaults = ProjectDefaults(job_placement=placement)
    ports, ctx = FakePorts(governance_=Governance("team-a", ProjectPolicy(), defaults)), context()
    _run(ports, ctx)
    effective = ctx.status.effective
    assert effective is not None and effective.job_placement == placement
    assert "job.placement" in effective.from_project
    placed = with_project_placement(ports.created_jobs[0][2], effective)
    assert placed.job.node_selector == {"pool": "batch"} and placed.job.tolerations == placement.tolerations
    # Without Project placement a pod goes anywhere, whatever the Migration's spec held.
    own = spec(job={"nodeSelector": {"pool": "mine"}})
    assert with_project_placement(own, None).job.node_selector == {}


def test_project_default_parallelism_is_checked_against_the_policy() -> None:
    governance = Governance("team-a", ProjectPolicy(max_parallelism=2), ProjectDefaults(parallelism=4))
    ports, ctx = FakePorts(governance_=governance), context()
    _run(ports, ctx)
    assert _cond(ctx, c.STALLED) == ("True", c.POLICY_VIOLATION)


# -- Running / Suspended ------------------------------------------------------------------------


def test_job_failures_are_retried_then_fail() -> None:
    ports, ctx = FakePorts(), context()
    _to_running(ports, ctx)
    ctx.status.workers = {
        "0": WorkerStatus(state=WorkerState.FAILED, message="orders: duplicate key\nDETAIL")
    }
    ports.job = JobState.FAILED
    out = _run(ports, ctx)
    assert _health(ctx) == (Phase.RUNNING, "False", "True", None)
    assert _cond(ctx, c.READY) == ("False", c.JOB_FAILED)
    assert ctx.status.attempts == 2 and ctx.status.next_attempt_time == "2026-11-29T12:00:10Z"
    assert [(e.type, e.reason) for e in out.events] == [("Warning", c.JOB_FAILED)]
    assert ctx.status.message == "attempt 1 failed (orders: duplicate key); retrying in 10s"

    _run(ports, ctx)  # not yet due: nothing is created
    assert len(ports.created_jobs) == 1
    ports.clock += timedelta(seconds=11)
    _run(ports, ctx)  # the second attempt
    assert [job[1] for job in ports.created_jobs] == [1, 2]
    assert ctx.status.next_attempt_time is None and ctx.status.phase == Phase.RUNNING

    for _attempt in range(2, MAX_ATTEMPTS + 1):
        ports.job = JobState.FAILED
        _run(ports, ctx)
        ports.clock += timedelta(minutes=5)
        _run(ports, ctx)
    assert _health(ctx) == (Phase.FAILED, "False", "False", "True")
    assert _cond(ctx, c.READY) == ("False", c.JOB_FAILED)
    assert ctx.status.message is not None and ctx.status.message.startswith("3 attempts failed: orders")
    assert ctx.status.completion_time is not None
    assert ports.actions()[-1] == "restore_foreign_keys"  # the kept target gets its keys back


def test_a_failure_with_rollback_rolls_back() -> None:
    ports, ctx = FakePorts(), context(spec(rollback={"onFailure": "drop-created"}))
    _to_running(ports, ctx)
    ctx.status.attempts = MAX_ATTEMPTS
    ports.job = JobState.FAILED
    out = _run(ports, ctx)
    assert _health(ctx) == (Phase.ROLLING_BACK, "False", "True", None)
    assert [(e.type, e.reason) for e in out.events] == [("Warning", Phase.ROLLING_BACK)]
    assert out.requeue_after == 0.5
    out = _run(ports, ctx)
    assert _health(ctx) == (Phase.ROLLED_BACK, "False", "False", "True")
    assert ("roll_back", "drop-created", ("public.orders",)) in ports.calls
    assert ctx.status.message is not None and ctx.status.message.startswith("rolled back (drop-created)")
    assert "3 attempts failed" in ctx.status.message
    assert [(e.type, e.reason) for e in out.events] == [("Normal", c.ROLLED_BACK)]


def test_suspend_and_resume() -> None:
    ports, ctx = FakePorts(), context()
    _to_running(ports, ctx)
    ctx.spec, ctx.generation = spec(suspend=True), 2
    _run(ports, ctx)
    assert _health(ctx) == (Phase.SUSPENDED, "False", "False", None)
    assert ("suspend", "shop-1") in ports.calls
    ctx.spec, ctx.generation = spec(suspend=False), 3
    _run(ports, ctx)
    assert _health(ctx) == (Phase.RUNNING, "False", "True", None)
    assert ("resume", "shop-1") in ports.calls and ctx.status.observed_generation == 3


def test_a_job_deleted_behind_the_operators_back_is_recreated_for_the_same_attempt() -> None:
    ports, ctx = FakePorts(), context()
    _to_running(ports, ctx)
    ports.job = JobState.MISSING
    _run(ports, ctx)
    assert [job[1] for job in ports.created_jobs] == [1, 1]


def _fail_first_attempt(ports: FakePorts, ctx: MigrationContext) -> None:
    _to_running(ports, ctx)
    ctx.status.workers = {"0": WorkerStatus(state=WorkerState.FAILED, message="orders: timeout")}
    ports.job = JobState.FAILED
    _run(ports, ctx)
    ports.clock += timedelta(seconds=11)  # the retry is due


def test_a_retry_is_not_started_when_the_project_policy_now_forbids_the_migration() -> None:
    # Admitted under the old policy; the Project then stopped allowing the source connection.
    ports, ctx = FakePorts(), context()
    _fail_first_attempt(ports, ctx)
    ports.governance_ = Governance("team-a", ProjectPolicy(allowed_connections=["prod-*"]))
    _run(ports, ctx)
    assert [job[1] for job in ports.created_jobs] == [1]
    assert _health(ctx) == (Phase.FAILED, "False", "False", "True")
    assert _cond(ctx, c.READY) == ("False", c.POLICY_VIOLATION)
    assert ctx.status.message is not None
    assert ctx.status.message.startswith("attempt 2 not started: Project team-a: source connection")


def test_a_retry_is_not_started_against_a_host_the_connection_rules_now_refuse() -> None:
    ports, ctx = FakePorts(), context()
    _fail_first_attempt(ports, ctx)
    rules = ConnectionRules(allowed_hosts=["*.prod.internal"])
    ports.governance_ = Governance("team-a", ProjectPolicy(connections=rules))
    _run(ports, ctx)
    assert [job[1] for job in ports.created_jobs] == [1]
    assert _cond(ctx, c.READY) == ("False", c.HOST_NOT_ALLOWED)
    assert ctx.status.phase == Phase.FAILED


def test_a_deleted_job_is_not_recreated_when_the_policy_now_forbids_it() -> None:
    ports, ctx = FakePorts(), context()
    _to_running(ports, ctx)
    ports.governance_ = Governance("team-a", ProjectPolicy(max_parallelism=1))
    ports.job = JobState.MISSING
    _run(ports, ctx)
    assert [job[1] for job in ports.created_jobs] == [1]
    assert _cond(ctx, c.READY) == ("False", c.POLICY_VIOLATION)
    assert ctx.status.message is not None and "exceeds the project's maxParallelism 1" in ctx.status.message


# -- Validating --------------------------------------------------------------------------------


def _to_validating(ports: FakePorts, ctx: MigrationContext) -> None:
    _to_running(ports, ctx)
    ctx.status.workers = {
        "0": WorkerStatus(
            state=WorkerState.DONE,
            rows_copied=1000,
            tables=[TableStatus(name="public.orders", state=TableState.DONE, rows_copied=1000)],
        )
    }
    ports.job = JobState.COMPLETE
    out = _run(ports, ctx)
    assert _health(ctx) == (Phase.VALIDATING, "False", "True", None)
    assert out.requeue_after == 0.5  # due at once: the controller runs it in the same call


def _through_validation_job(ports: FakePorts, ctx: MigrationContext) -> Outcome:
    """The first check creates the run's validation Job and waits; the next reads its results."""
    out = _run(ports, ctx)
    assert ctx.status.validation is not None and ctx.status.validation.job_name == f"{ctx.name}-validate-1"
    assert ctx.status.phase == Phase.VALIDATING and out.requeue_after is not None
    return _run(ports, ctx)


def test_validation_success() -> None:
    table = TableValidation("public.orders", 1000, 1000, checksum_match=True)
    ports, ctx = FakePorts(validation=ValidationReport([table], {"public.orders": "ok"})), context()
    _to_validating(ports, ctx)
    out = _through_validation_job(ports, ctx)
    assert _health(ctx) == (Phase.SUCCEEDED, "True", "False", None)
    assert _cond(ctx, c.READY) == ("True", c.SUCCEEDED)
    # A succeeded copy resumes nothing: its checkpoint rows are cleared from the target.
    assert ports.actions()[-5:] == ["complete_target", "validation_job", "validation_workers", "validate",
                                    "forget_checkpoints"]  # fmt: skip
    assert ctx.status.tables[0].state == TableState.VALIDATED and ctx.status.tables[0].validation == "ok"
    assert [(e.type, e.reason) for e in out.events] == [("Normal", Phase.SUCCEEDED)]
    assert _run(ports, ctx).events == []  # terminal: nothing more happens
    calls, saves = len(ports.calls), len(ports.saved)
    ctx.generation = 2  # a spec change after the end is observed (kstatus), not run
    assert _run(ports, ctx).events == [] and len(ports.calls) == calls
    assert len(ports.saved) == saves + 1 and ctx.status.observed_generation == 2
    assert all(cond.observed_generation == 2 for cond in ctx.status.conditions)


def test_validation_failure_fails() -> None:
    table = TableValidation("public.orders", 1000, 999)
    ports, ctx = FakePorts(validation=ValidationReport([table])), context()
    _to_validating(ports, ctx)
    _through_validation_job(ports, ctx)
    assert _health(ctx) == (Phase.FAILED, "False", "False", "True")
    assert _cond(ctx, c.READY) == ("False", c.VALIDATION_FAILED)
    assert "source 1000 rows, target 999" in (ctx.status.message or "")


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        (RestoreError("foreign key playlist_fk is broken by the loaded rows"), "it stays recorded"),
        (
            ApplyError(AppliedRecord(True, failed="CREATE INDEX i ON orders (x)", error="no column x")),
            "building keys and indexes failed: DDL failed: no column x",
        ),
    ],
)
def test_completing_the_target_can_fail_validation(error: Exception, expected: str) -> None:
    ports, ctx = FakePorts(), context()
    _to_validating(ports, ctx)
    ports.complete_error = error
    _run(ports, ctx)
    assert _cond(ctx, c.READY) == ("False", c.VALIDATION_FAILED)
    assert expected in (ctx.status.message or "")


def test_validation_waits_in_place_for_a_connection() -> None:
    ports, ctx = FakePorts(), context()
    _to_validating(ports, ctx)
    ports.connections["dst"] = 'DatabaseConnection "dst" is not Ready'
    _run(ports, ctx)
    assert _health(ctx) == (Phase.VALIDATING, "False", "True", None)


def test_validation_turned_off_says_so() -> None:
    ports = FakePorts(validation=ValidationReport([], skipped=True))
    ctx = context(spec(validation={"rowCount": False, "checksum": False}))
    _to_validating(ports, ctx)
    _run(ports, ctx)
    assert "validation_job" not in ports.actions()  # nothing to compare, no Job
    assert ctx.status.phase == Phase.SUCCEEDED
    assert ctx.status.message is not None and ctx.status.message.startswith("not validated")
    assert ctx.status.tables[0].state == TableState.DONE


def test_validation_waits_for_its_job_and_is_not_duplicated_across_restarts() -> None:
    ports, ctx = FakePorts(validation_job_default=JobState.ACTIVE), context()
    _to_validating(ports, ctx)
    _run(ports, ctx)
    _run(ports, ctx)
    ctx.read = ctx.written = None  # an operator restart: the Job's name is in the stored status
    _run(ports, ctx)
    assert ctx.status.phase == Phase.VALIDATING
    assert [call for call in ports.calls if call[0] == "validation_job"] == [
        ("validation_job", "shop-validate-1")
    ]
    assert ports.actions().count("complete_target") == 1  # once per run, not on every check
    ports.validation_jobs["shop-validate-1"] = JobState.MISSING  # deleted by hand: created again
    _run(ports, ctx)
    assert ports.actions().count("validation_job") == 2
    assert ctx.status.validation is not None and ctx.status.validation.job_name == "shop-validate-1"


def test_a_failed_validation_job_fails_validation_and_names_it() -> None:
    ports, ctx = FakePorts(validation_job_default=JobState.FAILED), context()
    _to_validating(ports, ctx)
    _run(ports, ctx)
    _run(ports, ctx)
    assert _cond(ctx, c.READY) == ("False", c.VALIDATION_FAILED)
    assert "validation Job shop-validate-1 failed" in (ctx.status.message or "")


def _damaged() -> ValidationReport:
    differs = TableValidation("public.orders", 1000, 990, None, "keys after (200) up to (400)",
                              mismatched_ranges=("public.orders#2/5",))  # fmt: skip
    return ValidationReport([differs])


def test_differing_ranges_fail_with_a_repair_hint_and_a_repair_request_starts_the_next_run() -> None:
    ports, ctx = FakePorts(validation=_damaged()), context()
    _to_validating(ports, ctx)
    _through_validation_job(ports, ctx)
    assert _cond(ctx, c.READY) == ("False", c.VALIDATION_FAILED)
    message = ctx.status.message or ""
    assert "first differing range keys after (200) up to (400)" in message
    assert "kubectl ferry repair mig/shop -n" in message
    assert ctx.status.validation is not None
    assert ctx.status.validation.mismatched_ranges == ["public.orders#2/5"]
    _run(ports, ctx)
    assert ctx.status.phase == Phase.FAILED  # nothing asked: it stays failed
    repair = ctx.spec.validation.model_copy(update={"repair": True})
    ctx.spec = ctx.spec.model_copy(update={"validation": repair})
    ctx.generation += 1  # what kubectl ferry repair's patch does
    fixed = TableValidation("public.orders", 1000, 1000, True, None, repaired_ranges=("public.orders#2/5",))
    ports.validation = ValidationReport(
        [fixed], {"public.orders": "ok: rows and checksum match (repaired 1)"}
    )
    _run(ports, ctx)
    assert ctx.status.phase == Phase.VALIDATING and ctx.status.validation.run == 2
    assert ctx.status.completion_time is None
    _run(ports, ctx)
    assert ctx.status.validation.job_name == "shop-validate-2"
    _run(ports, ctx)
    assert ctx.status.phase == Phase.SUCCEEDED
    assert ctx.status.validation.repaired_ranges == ["public.orders#2/5"]
    assert "repaired 1 key ranges" in (ctx.status.message or "")
    assert ports.actions().count("complete_target") == 2  # once per run


def test_a_repair_that_fails_again_is_not_retried_until_the_spec_changes() -> None:
    ports, ctx = FakePorts(validation=_damaged()), context(spec(validation={"repair": True}))
    _to_validating(ports, ctx)
    _through_validation_job(ports, ctx)
    assert _cond(ctx, c.READY) == ("False", c.VALIDATION_FAILED)
    assert "kubectl ferry repair" not in (ctx.status.message or "")  # repair was on: no hint
    for _ in range(3):
        _run(ports, ctx)
    assert ctx.status.phase == Phase.FAILED
    assert ctx.status.validation is not None and ctx.status.validation.run == 1


# -- errors -------------------------------------------------------------------------------------


def test_an_unclassified_error_is_retried_then_stalls_until_the_spec_changes() -> None:
    ports, ctx = FakePorts(), context()
    _to_running(ports, ctx)

    def broken(namespace: str, job_name: str | None) -> JobState:
        raise ConnectionError("")  # an empty message must not become an IndexError

    ports.job_state = broken  # type: ignore[method-assign]
    delays = []
    for _ in range(MAX_RECONCILE_ERRORS - 1):
        out = _run(ports, ctx)
        delays.append(out.requeue_after)
        assert _health(ctx) == (Phase.RUNNING, "False", "True", None)
        assert _cond(ctx, c.READY) == ("False", c.RECONCILE_ERROR)
    assert delays == [5.0, 10.0, 20.0, 40.0]
    assert ctx.status.message == "Running: ConnectionError; retrying (try 4 of 5)"
    out = _run(ports, ctx)
    assert _health(ctx) == (Phase.RUNNING, "False", "False", "True")
    assert _cond(ctx, c.STALLED) == ("True", c.RECONCILE_ERROR)
    assert out.requeue_after is None and [e.type for e in out.events] == ["Warning"]
    saves = len(ports.saved)
    assert _run(ports, ctx).events == [] and len(ports.saved) == saves  # given up: left alone

    ports.job_state = lambda namespace, job_name: JobState.ACTIVE  # type: ignore[method-assign]
    ctx.generation = 2  # the user changed the spec
    _run(ports, ctx)
    assert _health(ctx) == (Phase.RUNNING, "False", "True", None)
    assert ctx.status.reconcile_errors == 0


# -- delete ------------------------------------------------------------------------------------


def test_delete_rolls_back_what_the_migration_wrote() -> None:
    ports, ctx = FakePorts(), context(spec(rollback={"onDelete": "truncate"}))
    _to_running(ports, ctx)
    event = MigrationReconciler(ports).finalize(ctx)
    assert event is not None and (event.type, event.reason) == ("Normal", c.ROLLED_BACK)
    assert ("roll_back", "truncate", ("public.orders",)) in ports.calls


def test_delete_of_a_migration_that_never_started_touches_nothing() -> None:
    ports, ctx = FakePorts(planned=plan(drop_column())), context(spec(rollback={"onDelete": "truncate"}))
    _run(ports, ctx)
    assert ctx.status.phase == Phase.AWAITING_APPROVAL
    assert MigrationReconciler(ports).finalize(ctx) is None
    assert "roll_back" not in ports.actions()


def test_delete_with_keep_forgets_the_checkpoints_when_the_target_answers_and_never_waits() -> None:
    """onDelete keep: the rows stay and nothing is rolled back, but the deleted Migration's
    checkpoints go; a target that cannot be reached keeps them, and deletion does not wait."""
    ports, ctx = FakePorts(), context(spec())
    _to_running(ports, ctx)
    assert MigrationReconciler(ports).finalize(ctx) is None
    assert ("forget_checkpoints", ctx.uid) in ports.calls and "roll_back" not in ports.actions()
    ports.calls.clear()
    ports.connections["dst"] = 'DatabaseConnection "dst" is not Ready: Unreachable'
    assert MigrationReconciler(ports).finalize(ctx) is None
    assert "forget_checkpoints" not in ports.actions()
    ports.connections["dst"] = connection()
    ports.missing_secret = "dst-creds"  # its namespace is being deleted: the Secret went first
    assert MigrationReconciler(ports).finalize(ctx) is None  # logged, not raised


def test_delete_waits_for_an_unreachable_target() -> None:
    ports, ctx = FakePorts(), context(spec(rollback={"onDelete": "drop-created"}))
    _to_running(ports, ctx)
    ports.connections["dst"] = 'DatabaseConnection "dst" is not Ready: Unreachable'
    with pytest.raises(RollbackBlocked, match="Unreachable"):
        MigrationReconciler(ports).finalize(ctx)


def test_delete_gives_up_on_an_unreachable_target_after_the_bound_and_says_so() -> None:
    ports, ctx = FakePorts(), context(spec(rollback={"onDelete": "drop-created"}))
    _to_running(ports, ctx)
    ports.connections["dst"] = 'DatabaseConnection "dst" is not Ready: Unreachable'
    with pytest.raises(RollbackBlocked):
        MigrationReconciler(ports).finalize(ctx, waited=DELETE_ROLLBACK_GIVE_UP_SECONDS - 1)
    event = MigrationReconciler(ports).finalize(ctx, waited=DELETE_ROLLBACK_GIVE_UP_SECONDS)
    assert event is not None and (event.type, event.reason) == ("Warning", c.ROLLBACK_ABANDONED)
    assert "gave up after 600s" in event.message and "target keeps what the migration wrote" in event.message


def test_a_database_that_goes_away_during_a_delete_time_rollback_blocks_it() -> None:
    ports, ctx = FakePorts(), context(spec(rollback={"onDelete": "truncate"}))
    _to_running(ports, ctx)
    ports.roll_back_error = OSError("[Errno 111] Connection refused")
    with pytest.raises(RollbackBlocked, match="went away"):
        MigrationReconciler(ports).finalize(ctx)
    ports.roll_back_error = ValueError("a bug, not an outage")
    with pytest.raises(ValueError):
        MigrationReconciler(ports).finalize(ctx)
