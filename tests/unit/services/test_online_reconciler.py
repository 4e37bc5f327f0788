"""Online mode's transitions of the Migration reconciler, through fake ports.

Running (capture opened before the copy) → Following → CuttingOver → Validating → Succeeded, and
the ways off that path: capture not ready, a changed source table, a failing follower, suspend,
a capture holding too much WAL, deletion.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from ferry.api import conditions as c
from ferry.api.migration import JobKind, Phase, ReplicationState, ReplicationStatus
from ferry.api.project import ProjectPolicy
from ferry.services.capture_ops import CaptureHealth
from ferry.services.migration import MAX_ATTEMPTS, MigrationReconciler, Outcome, RollbackBlocked
from ferry.services.migration_ports import JobState, MigrationContext
from ferry.services.policy import Governance
from unit.services.fake_ports import FakePorts, connection, context, plan, spec


def online(**extra: Any) -> Any:
    return spec(mode="online", **extra)


def _run(ports: FakePorts, ctx: MigrationContext) -> Outcome:
    return MigrationReconciler(ports).reconcile(ctx)


def _health(ctx: MigrationContext) -> tuple[Phase, str | None, str | None, str | None]:
    st = ctx.status
    ready, reconciling, stalled = (st.condition(t) for t in (c.READY, c.RECONCILING, c.STALLED))
    return (
        st.phase,
        ready.status if ready else None,
        reconciling.status if reconciling else None,
        stalled.status if stalled else None,
    )


def _reason(ctx: MigrationContext, type_: str = c.READY) -> str | None:
    found = ctx.status.condition(type_)
    return found.reason if found else None


def _to_following(ports: FakePorts, ctx: MigrationContext) -> None:
    _run(ports, ctx)
    assert ctx.status.phase == Phase.RUNNING, ctx.status.message
    ports.job = JobState.COMPLETE
    _run(ports, ctx)
    assert ctx.status.phase == Phase.FOLLOWING, ctx.status.message


def _cut_over(ports: FakePorts, ctx: MigrationContext) -> None:
    ctx.spec, ctx.generation = online(cutover={"requested": True}), ctx.generation + 1
    _run(ports, ctx)
    assert ctx.status.phase == Phase.CUTTING_OVER, ctx.status.message


def test_the_capture_opens_before_the_copy_job_and_its_start_is_recorded() -> None:
    ports, ctx = FakePorts(), context(online())
    out = _run(ports, ctx)
    assert _health(ctx) == (Phase.RUNNING, "False", "True", None)
    assert ports.actions() == ["fingerprint", "plan", "prepare_target", "start_capture", "rbac"]
    assert ("start_capture", "uid-1", ("orders",)) in ports.calls
    # start_time is saved before the capture opens: a delete from then on drops it.
    assert any(s.start_time and s.replication is None for s in ports.saved)
    assert ctx.status.replication is not None and ctx.status.replication.start_position == "0/16B3748"
    assert (c.CAPTURE_STARTED, "Normal") in [(e.reason, e.type) for e in out.events]
    assert ports.created_jobs[0][0] == "shop-1" and ctx.status.job_kind == JobKind.COPY


def test_an_offline_migration_opens_no_capture() -> None:
    ports, ctx = FakePorts(), context()
    _run(ports, ctx)
    ports.job = JobState.COMPLETE
    _run(ports, ctx)
    assert ctx.status.phase == Phase.VALIDATING
    assert not {"start_capture", "prepare_follow", "drop_capture"} & set(ports.actions())


def test_a_source_that_cannot_be_followed_stalls_before_anything_runs() -> None:
    problem = "online mode: wal_level is replica; set wal_level = logical and restart the server"
    planned = replace(plan(errors=(problem,)), capture_problems=(problem,))
    ports, ctx = FakePorts(planned=planned), context(online())
    _run(ports, ctx)
    assert _health(ctx) == (Phase.PLANNING, "False", "False", "True")
    assert _reason(ctx, c.STALLED) == c.CAPTURE_NOT_READY
    assert ctx.status.message is not None and "wal_level = logical" in ctx.status.message
    assert ports.created_jobs == [] and "start_capture" not in ports.actions()


def test_copy_done_starts_the_follower_and_reports_healthy() -> None:
    ports, ctx = FakePorts(), context(online())
    out = Outcome()
    _run(ports, ctx)
    ports.job = JobState.COMPLETE
    out = _run(ports, ctx)
    # Ready while following: kstatus Current, Argo CD Healthy.
    assert _health(ctx) == (Phase.FOLLOWING, "True", "False", None)
    assert _reason(ctx) == c.FOLLOWING
    assert ports.actions()[-1] == "prepare_follow"
    assert ctx.status.job_kind == JobKind.FOLLOWER and ctx.status.attempts == 1
    assert ctx.status.job_name == "shop-follow-1"
    assert [e.reason for e in out.events] == [Phase.FOLLOWING]


def test_cutover_request_then_follower_done_validates_drops_the_capture_and_succeeds() -> None:
    ports, ctx = FakePorts(), context(online())
    _to_following(ports, ctx)
    ports.job = JobState.ACTIVE
    _run(ports, ctx)
    assert ctx.status.phase == Phase.FOLLOWING and "request_cutover" not in ports.actions()

    _cut_over(ports, ctx)
    assert _health(ctx) == (Phase.CUTTING_OVER, "False", "True", None)
    assert ("request_cutover", 5) in ports.calls
    assert ctx.status.cutover is not None and ctx.status.cutover.requested_at == "2026-11-29T12:00:00Z"

    # The follower took its cutover position (it writes status.replication itself).
    ctx.status.replication = ReplicationStatus(
        start_position="0/16B3748", state=ReplicationState.CUTTING_OVER, cutover_position="0/2000000"
    )
    ports.clock += timedelta(seconds=3)
    _run(ports, ctx)
    assert ctx.status.cutover.started_at == "2026-11-29T12:00:03Z"

    ports.job, ports.clock = JobState.COMPLETE, ports.clock + timedelta(seconds=9)
    out = _run(ports, ctx)
    assert ctx.status.phase == Phase.VALIDATING
    assert ("drop_capture", "cut-over") in ports.calls
    assert (c.CAPTURE_DROPPED, "Normal") in [(e.reason, e.type) for e in out.events]
    _run(ports, ctx)  # creates the validation Job
    out = _run(ports, ctx)
    assert _health(ctx) == (Phase.SUCCEEDED, "True", "False", None)
    assert ports.actions()[-5:] == ["complete_target", "validation_job", "validation_workers", "validate",
                                    "forget_checkpoints"]  # fmt: skip
    cutover = ctx.status.cutover
    assert cutover.position == "0/2000000" and cutover.completed_at == "2026-11-29T12:00:12Z"
    assert cutover.duration_seconds == 12.0
    assert ctx.status.message is not None and ctx.status.message.startswith("cut over at 0/2000000; ")


def test_a_cutover_requested_during_the_copy_waits_for_following() -> None:
    ports, ctx = FakePorts(), context(online(cutover={"requested": True}))
    _run(ports, ctx)
    assert ctx.status.phase == Phase.RUNNING and "request_cutover" not in ports.actions()
    ports.job = JobState.COMPLETE
    _run(ports, ctx)
    assert ctx.status.phase == Phase.FOLLOWING
    ports.job = JobState.ACTIVE
    _run(ports, ctx)
    assert ctx.status.phase == Phase.CUTTING_OVER


def test_a_project_can_require_approval_for_the_cutover() -> None:
    policy = ProjectPolicy(cutover_requires_approval=True)
    ports, ctx = FakePorts(governance_=Governance("team-a", policy)), context(online())
    _to_following(ports, ctx)
    ports.job = JobState.ACTIVE
    _cut_over_refused = online(cutover={"requested": True})
    ctx.spec, ctx.generation = _cut_over_refused, 2
    _run(ports, ctx)
    assert _health(ctx) == (Phase.FOLLOWING, "True", "False", None)
    assert _reason(ctx) == c.CUTOVER_AWAITING_APPROVAL
    assert ctx.status.message is not None and "spec.approval.cutover: true" in ctx.status.message
    assert "request_cutover" not in ports.actions()
    ctx.spec, ctx.generation = online(cutover={"requested": True}, approval={"cutover": True}), 3
    _run(ports, ctx)
    assert ctx.status.phase == Phase.CUTTING_OVER and "request_cutover" in ports.actions()


def test_a_changed_source_table_stalls_naming_it_until_the_spec_changes() -> None:
    ports, ctx = FakePorts(), context(online())
    _to_following(ports, ctx)
    ctx.status.replication = ReplicationStatus(
        start_position="0/16B3748",
        state=ReplicationState.SOURCE_SCHEMA_CHANGED,
        message="table public.orders: column note added",
    )
    ports.job = JobState.FAILED  # exit code 3: the pod failure policy fails the Job at once
    out = _run(ports, ctx)
    assert _health(ctx) == (Phase.FOLLOWING, "False", "False", "True")
    assert _reason(ctx, c.STALLED) == c.SOURCE_SCHEMA_CHANGED
    assert ctx.status.message is not None and "table public.orders: column note added" in ctx.status.message
    assert [(e.type, e.reason) for e in out.events] == []  # the phase did not change
    jobs = len(ports.created_jobs)
    _run(ports, ctx)  # nothing retries a changed table
    assert len(ports.created_jobs) == jobs and _reason(ctx, c.STALLED) == c.SOURCE_SCHEMA_CHANGED

    ctx.generation = 2  # the user changed the spec (after fixing the target)
    _run(ports, ctx)
    assert _health(ctx) == (Phase.FOLLOWING, "True", "False", None)
    assert ports.created_jobs[-1][0] == "shop-follow-2"


def test_native_apply_that_cannot_run_stalls_saying_why_until_the_spec_changes() -> None:
    ports, ctx = FakePorts(), context(online())
    _to_following(ports, ctx)
    ctx.status.replication = ReplicationStatus(
        start_position="0/16B3748",
        state=ReplicationState.NATIVE_APPLY_UNAVAILABLE,
        message="spec.online.apply is native, but the target's user may not CREATE SUBSCRIPTION",
    )
    ports.job = JobState.FAILED  # exit code 4: the pod failure policy fails the Job at once
    _run(ports, ctx)
    assert _reason(ctx, c.STALLED) == c.NATIVE_APPLY_UNAVAILABLE
    assert ctx.status.message is not None and "may not CREATE SUBSCRIPTION" in ctx.status.message
    jobs = len(ports.created_jobs)
    _run(ports, ctx)
    assert len(ports.created_jobs) == jobs  # not retried until the spec changes

    ctx.generation = 2
    _run(ports, ctx)
    assert ports.created_jobs[-1][0] == "shop-follow-2"


def test_a_failing_follower_is_retried_in_place_then_fails_and_drops_the_capture() -> None:
    ports, ctx = FakePorts(), context(online())
    _to_following(ports, ctx)
    ctx.status.replication = ReplicationStatus(
        start_position="0/16B3748", state=ReplicationState.FAILED, message="connection to target lost\nDETAIL"
    )
    ports.job = JobState.FAILED
    _run(ports, ctx)
    assert _health(ctx) == (Phase.FOLLOWING, "False", "True", None)
    assert _reason(ctx) == c.JOB_FAILED
    assert ctx.status.message == "attempt 1 failed (connection to target lost); retrying in 10s"
    ports.clock += timedelta(seconds=11)
    _run(ports, ctx)
    assert ports.created_jobs[-1][0] == "shop-follow-2"
    assert _health(ctx) == (Phase.FOLLOWING, "True", "False", None)
    for _attempt in range(2, MAX_ATTEMPTS + 1):
        ports.job = JobState.FAILED
        _run(ports, ctx)
        ports.clock += timedelta(minutes=5)
        _run(ports, ctx)
    assert _health(ctx) == (Phase.FAILED, "False", "False", "True")
    assert ("drop_capture", "failed") in ports.calls
    assert ctx.status.message is not None and "dropped slot ferry_uid1" in ctx.status.message


def test_a_follower_job_deleted_behind_the_operators_back_is_recreated() -> None:
    ports, ctx = FakePorts(), context(online())
    _to_following(ports, ctx)
    ports.job = JobState.MISSING
    _run(ports, ctx)
    assert [job[0] for job in ports.created_jobs] == ["shop-1", "shop-follow-1", "shop-follow-1"]


def test_suspend_while_following_says_the_source_keeps_its_history() -> None:
    ports, ctx = FakePorts(), context(online())
    _to_following(ports, ctx)
    ports.job = JobState.ACTIVE
    ctx.spec, ctx.generation = online(suspend=True), 2
    _run(ports, ctx)
    assert _health(ctx) == (Phase.SUSPENDED, "False", "False", None)
    assert ("suspend", "shop-follow-1") in ports.calls
    assert ctx.status.message is not None and "WAL held by the replication slot" in ctx.status.message
    ctx.spec, ctx.generation = online(suspend=False), 3
    _run(ports, ctx)
    assert _health(ctx) == (Phase.FOLLOWING, "True", "False", None)
    assert ("resume", "shop-follow-1") in ports.calls


def test_a_capture_holding_too_much_wal_warns_once_and_is_checked_every_30_seconds() -> None:
    ports, ctx = FakePorts(), context(online())
    _to_following(ports, ctx)
    ports.job = JobState.ACTIVE
    out = _run(ports, ctx)
    assert ctx.status.is_true(c.CAPTURE_HEALTHY) and out.events == []
    checks = ports.actions().count("capture_health")

    ports.health = CaptureHealth("ferry_uid1", retained_bytes=3 << 30, wal_status="extended")
    ports.clock += timedelta(seconds=10)
    _run(ports, ctx)
    assert ports.actions().count("capture_health") == checks  # not due yet
    ports.clock += timedelta(seconds=25)
    out = _run(ports, ctx)
    assert _reason(ctx, c.CAPTURE_HEALTHY) == c.SLOT_WAL_RETAINED
    assert [(e.type, e.reason) for e in out.events] == [("Warning", c.SLOT_WAL_RETAINED)]
    assert "retains 3.0 GiB of WAL" in out.events[0].message
    assert _health(ctx) == (Phase.FOLLOWING, "True", "False", None)  # a warning, not a phase
    ports.clock += timedelta(seconds=31)
    assert _run(ports, ctx).events == []  # no second Warning while it stays so

    ports.health = CaptureHealth("ferry_uid1", retained_bytes=1 << 20)
    ports.clock += timedelta(seconds=31)
    _run(ports, ctx)
    assert ctx.status.is_true(c.CAPTURE_HEALTHY)


def test_the_capture_is_checked_while_suspended_too() -> None:
    ports, ctx = FakePorts(), context(online())
    _to_following(ports, ctx)
    ctx.spec, ctx.generation = online(suspend=True), 2
    _run(ports, ctx)
    ports.health = CaptureHealth("ferry_uid1", wal_status="unreserved")
    ports.clock += timedelta(minutes=1)
    out = _run(ports, ctx)
    assert ctx.status.phase == Phase.SUSPENDED
    assert [(e.type, e.reason) for e in out.events] == [("Warning", c.SLOT_WAL_RETAINED)]


def test_delete_drops_the_capture_even_when_the_tables_are_kept() -> None:
    ports, ctx = FakePorts(), context(online())
    _to_following(ports, ctx)
    event = MigrationReconciler(ports).finalize(ctx)
    assert ("drop_capture", "deleted") in ports.calls and "roll_back" not in ports.actions()
    assert event is not None and event.reason == c.CAPTURE_DROPPED


def test_delete_with_rollback_drops_the_capture_and_rolls_back() -> None:
    ports, ctx = FakePorts(), context(online(rollback={"onDelete": "drop-created"}))
    _to_following(ports, ctx)
    event = MigrationReconciler(ports).finalize(ctx)
    assert ports.actions()[-2:] == ["drop_capture", "roll_back"]
    assert event is not None and "dropped slot ferry_uid1" in event.message


def test_delete_waits_while_the_source_is_unreachable() -> None:
    ports, ctx = FakePorts(), context(online())
    _to_following(ports, ctx)
    ports.connections["src"] = 'DatabaseConnection "src" is not Ready'
    with pytest.raises(RollbackBlocked):
        MigrationReconciler(ports).finalize(ctx)
    assert "drop_capture" not in ports.actions()


def test_delete_of_an_online_migration_that_never_started_touches_nothing() -> None:
    ports = FakePorts(connections={"src": connection(), "dst": "missing"})
    ctx = context(online())
    assert MigrationReconciler(ports).finalize(ctx) is None and ports.calls == []


def test_the_follower_is_not_started_when_the_project_policy_now_forbids_the_migration() -> None:
    # The copy ran under the old policy; by the time it is done the Project no longer allows
    # the source connection: no follower Job, the Migration fails and drops its capture.
    ports, ctx = FakePorts(), context(online())
    _run(ports, ctx)
    ports.governance_ = Governance("team-a", ProjectPolicy(allowed_connections=["prod-*"]))
    ports.job = JobState.COMPLETE
    _run(ports, ctx)
    assert ctx.status.job_kind != JobKind.FOLLOWER and "prepare_follow" not in ports.actions()
    assert "drop_capture" in ports.actions()
    assert _health(ctx)[0] == Phase.FAILED and _reason(ctx) == c.POLICY_VIOLATION
    assert ctx.status.message is not None
    assert ctx.status.message.startswith("follower job not started: Project team-a: source connection")


def test_a_follower_restarted_after_a_schema_change_is_checked_against_the_policy_again() -> None:
    ports, ctx = FakePorts(), context(online())
    _to_following(ports, ctx)
    ctx.status.replication = ReplicationStatus(
        state=ReplicationState.SOURCE_SCHEMA_CHANGED, message="table public.orders: column note added"
    )
    ports.job = JobState.FAILED
    _run(ports, ctx)
    jobs = len(ports.created_jobs)
    ports.governance_ = Governance("team-a", ProjectPolicy(allowed_connections=["prod-*"]))
    ctx.generation = 2
    _run(ports, ctx)
    assert len(ports.created_jobs) == jobs and _reason(ctx) == c.POLICY_VIOLATION
