"""May this plan run? One answer for the operator, `ferry run` and `ferry plan`.

The inputs are the spec, the plan (schema DDL and the data operations of
ferry.services.data_operations), the governing policy and whether the target connection is
read-only. The operator turns the decision into a phase (Running, AwaitingApproval, Stalled);
the CLI into an exit code. Checks, in order:

1. the Project's policy (allowed connections, raw SQL filters, max parallelism);
2. a read-only target;
3. errors in the plan;
4. approval: destructive operations need it unless `schema.allowDestructive` is set and the
   policy lets that suffice; lossy ones when the policy says so. Without a Project rule
   (`policy.approvals`), a `spec.approval.planHash` equal to the plan's hash or one counted
   MigrationApproval is the approval; a different hash is stale. With a rule, only verified
   MigrationApprovals count (ferry.services.approvals), as many distinct approvers as it
   requires.

In the cluster the policy is the owning Project's, or `ProjectPolicy()` (destructive plans
always need an approved hash). Locally it is the bundle's Project's, or `LOCAL_POLICY`:
everything allowed, and `allowDestructive: true` (or a matching hash) suffices, since the
person running `ferry run` is the one approving.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from ferry.api import conditions as c
from ferry.api.migration import MigrationSpec
from ferry.api.project import ProjectPolicy, UnprotectedPersonalData
from ferry.schema import Plan
from ferry.schema.personal_data import describe, unprotected
from ferry.services.approvals import Tally
from ferry.services.policy import Governance, needs_approval, policy_violations

LOCAL_POLICY = ProjectPolicy(destructive_requires_approval=False)


class Verdict(StrEnum):
    RUN = "run"
    POLICY_VIOLATION = "policy-violation"
    TARGET_READ_ONLY = "target-read-only"
    PLAN_ERRORS = "plan-errors"
    NEEDS_APPROVAL = "needs-approval"
    APPROVAL_STALE = "approval-stale"


_REASONS = {
    Verdict.RUN: c.RUNNING,
    Verdict.POLICY_VIOLATION: c.POLICY_VIOLATION,
    Verdict.TARGET_READ_ONLY: c.TARGET_READ_ONLY,
    Verdict.PLAN_ERRORS: c.PLAN_FAILED,
    Verdict.NEEDS_APPROVAL: c.AWAITING_APPROVAL,
    Verdict.APPROVAL_STALE: c.APPROVAL_STALE,
}


@dataclass(frozen=True)
class Decision:
    verdict: Verdict
    message: str = ""

    @property
    def may_run(self) -> bool:
        return self.verdict == Verdict.RUN

    @property
    def reason(self) -> str:
        """The condition reason the operator shows for this decision."""
        return _REASONS[self.verdict]


def check_spec(spec: MigrationSpec, governance: Governance, target_read_only: bool) -> Decision | None:
    """The checks that need no plan (the operator makes them before reading any schema)."""
    problems = policy_violations(spec, governance.policy, spec.copy_.parallelism)
    if problems:
        where = f"Project {governance.project}" if governance.project else "policy"
        return Decision(Verdict.POLICY_VIOLATION, f"{where}: " + "; ".join(problems))
    if target_read_only:
        name = spec.target.connection_ref.name
        return Decision(Verdict.TARGET_READ_ONLY, f'target DatabaseConnection "{name}" is readOnly')
    return None


def decide(
    spec: MigrationSpec,
    plan: Plan,
    governance: Governance,
    *,
    target_read_only: bool,
    approve_hint: str = "",
    approvals: Tally | None = None,
) -> Decision:
    """The whole gate. `approve_hint`: how to approve, appended to approval messages;
    `approvals`: the MigrationApprovals judged for this plan (None where none can exist: locally)."""
    early = check_spec(spec, governance, target_read_only)
    if early is not None:
        return early
    if plan.errors:
        return Decision(Verdict.PLAN_ERRORS, "the plan cannot be applied: " + "; ".join(plan.errors))
    bare = unprotected(plan.personal_data)
    if bare and governance.policy.personal_data.unprotected == UnprotectedPersonalData.DENY:
        where = f"Project {governance.project}" if governance.project else "policy"
        return Decision(
            Verdict.POLICY_VIOLATION,
            f"{where}: personal data copied without a transform (policy.personalData.unprotected: deny): "
            f"{describe(bare)}; add a hash, mask, encrypt, null or constant transform, or exclude the column",
        )
    counts = plan.counts()
    if not needs_approval(counts, governance.policy, spec.schema_.allow_destructive):
        return Decision(Verdict.RUN)
    what = ", ".join(f"{n} {risk}" for risk, n in counts.items() if n and risk != "safe")
    hint = f"; {approve_hint}" if approve_hint else ""
    counted = approvals.count if approvals else 0
    rule = governance.policy.approvals
    if rule is not None:
        return _verified_decision(plan, rule.required, approvals, what, hint)
    approved = spec.approval.plan_hash
    if approved == plan.hash or counted:
        return Decision(Verdict.RUN)
    if approved:
        return Decision(
            Verdict.APPROVAL_STALE,
            f"the approved plan {approved[:12]} is out of date (the schemas or settings changed); "
            f"current plan {plan.hash[:12]} has {what} operations{hint}",
        )
    return Decision(Verdict.NEEDS_APPROVAL, f"plan {plan.hash[:12]} has {what} operations{hint}")


def _verified_decision(plan: Plan, required: int, approvals: Tally | None, what: str, hint: str) -> Decision:
    """The Project's rule: `required` distinct verified approvers of this very plan."""
    if approvals is None:  # locally: nothing the apiserver verified exists
        return Decision(
            Verdict.NEEDS_APPROVAL,
            f"plan {plan.hash[:12]} has {what} operations and the Project requires {required} verified "
            "approvals (MigrationApproval objects), which only the cluster can check",
        )
    if approvals.count >= required:
        return Decision(Verdict.RUN)
    by = f" (by {', '.join(approvals.counted)})" if approvals.counted else ""
    return Decision(
        Verdict.NEEDS_APPROVAL,
        f"plan {plan.hash[:12]} has {what} operations: {approvals.count} of {required} approvals counted"
        f"{by}; status.approvals says why others do not{hint}",
    )
