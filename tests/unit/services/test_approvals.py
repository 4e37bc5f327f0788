"""Verified approvals: which MigrationApprovals count, and the gate and reconciler that use them."""

from __future__ import annotations

import dataclasses

from ferry.api import conditions as c
from ferry.api.migration import Phase
from ferry.api.project import ApprovalRule, ProjectPolicy
from ferry.services.approvals import Approval, ApprovalsRead, tally
from ferry.services.migration import MigrationReconciler
from ferry.services.migration_ports import MigrationContext
from ferry.services.policy import Governance
from unit.services.fake_ports import FakePorts, context, drop_column, plan

PLAN = "a" * 64
OLD = "b" * 64


def approval(approver: str, plan_hash: str = PLAN, *groups: str) -> Approval:
    return Approval(f"{approver}-{plan_hash[:4]}", approver, groups, plan_hash)


def test_without_a_rule_any_verified_approval_of_this_plan_counts_once_per_person() -> None:
    judged = tally([approval("ann"), approval("ann"), approval("bob", OLD)], PLAN, None, None, verified=True)
    assert judged.counted == ("ann",)
    assert [(e.approver, e.counted, e.reason) for e in judged.entries] == [
        ("ann", True, None),
        ("ann", False, "counted once per approver"),
        ("bob", False, f"approves plan {OLD[:12]}, not the current one"),
    ]


def test_nothing_counts_when_the_admission_policy_does_not_verify_approvers() -> None:
    judged = tally([approval("ann")], PLAN, None, None, verified=False)
    assert judged.count == 0
    assert (
        judged.entries[0].reason
        == "not verified: the admission policy ferry-verified-approvals is not installed"
    )


def test_groups_and_four_eyes() -> None:
    rule = ApprovalRule(required=2, groups=["dba", "sre"], allow_author=False)
    approvals = [
        approval("ann", PLAN, "dba"),
        approval("bob", PLAN, "dev"),
        approval("carl", PLAN, "sre", "dba"),
    ]
    judged = tally(approvals, PLAN, rule, author="carl", verified=True)
    assert judged.counted == ("ann",)
    reasons = {e.approver: e.reason for e in judged.entries}
    assert reasons["bob"] == "the approver is not in any of the groups dba, sre"
    assert reasons["carl"] == "four eyes: the Migration's author may not approve it"
    # No author annotation: four eyes cannot be checked, so nothing counts under that rule.
    unknown = tally(approvals, PLAN, rule, author=None, verified=True)
    assert unknown.count == 0 and "no ferry.dev/author annotation" in (unknown.entries[0].reason or "")


def _reconcile_destructive(
    policy: ProjectPolicy, approvals: list[Approval], author: str | None
) -> tuple[FakePorts, MigrationContext]:
    """A destructive plan reconciled once, with these approvals of that very plan."""
    planned = plan(drop_column())
    ports = FakePorts(planned=planned, governance_=Governance("team-a", policy))
    of_this_plan = tuple(dataclasses.replace(a, plan_hash=planned.plan.hash) for a in approvals)
    ports.approvals_ = ApprovalsRead(of_this_plan, verified=True)
    ctx = dataclasses.replace(context(), author=author)
    MigrationReconciler(ports).reconcile(ctx)
    return ports, ctx


def test_a_rule_of_two_waits_for_the_second_distinct_approver_then_runs() -> None:
    policy = ProjectPolicy(approvals=ApprovalRule(required=2))
    ports, ctx = _reconcile_destructive(policy, [approval("ann")], author="dev")
    assert ctx.status.phase == Phase.AWAITING_APPROVAL
    ready = ctx.status.condition(c.READY)
    assert ready is not None and ready.reason == c.AWAITING_APPROVAL
    assert "1 of 2 approvals counted (by ann)" in (ctx.status.message or "")
    assert [(e.approver, e.counted) for e in ctx.status.approvals] == [("ann", True)]
    assert ports.created_jobs == []

    _, ctx = _reconcile_destructive(policy, [approval("ann"), approval("bob")], author="dev")
    assert ctx.status.phase == Phase.RUNNING


def test_under_a_rule_the_spec_hash_alone_does_not_approve() -> None:
    planned = plan(drop_column())
    ports = FakePorts(
        planned=planned, governance_=Governance("team-a", ProjectPolicy(approvals=ApprovalRule()))
    )
    ctx = context()
    ctx.spec.approval.plan_hash = planned.plan.hash
    MigrationReconciler(ports).reconcile(ctx)
    assert ctx.status.phase == Phase.AWAITING_APPROVAL
    assert "0 of 1 approvals counted" in (ctx.status.message or "")


def test_without_a_rule_one_approval_object_is_as_good_as_the_spec_hash() -> None:
    _, ctx = _reconcile_destructive(ProjectPolicy(), [approval("ann")], author=None)
    assert ctx.status.phase == Phase.RUNNING


def test_a_new_approval_is_seen_although_nothing_else_changed() -> None:
    """A waiting plan is not re-made while its basis holds; a new MigrationApproval changes the basis."""
    planned = plan(drop_column())
    ports = FakePorts(planned=planned)
    ctx = context()
    reconciler = MigrationReconciler(ports)
    reconciler.reconcile(ctx)
    assert ctx.status.phase == Phase.AWAITING_APPROVAL
    reconciler.reconcile(ctx)  # nothing changed: the plan holds
    assert ctx.status.phase == Phase.AWAITING_APPROVAL
    ports.approvals_ = ApprovalsRead((Approval("a1", "ann", (), planned.plan.hash),), verified=True)
    reconciler.reconcile(ctx)
    assert ctx.status.phase == Phase.RUNNING
