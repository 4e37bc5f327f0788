"""Which MigrationApprovals count for a plan, under a Project's rule.

Pure: the operator reads the approvals (ferry.services.migration_kube) and whether the
admission policy that verifies them is installed; this decides, one reason per approval, so
status can say exactly why an approval did not count. The gate (ferry.services.gate) then
compares the number of distinct counted approvers with what the rule requires.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from ferry.api.migration_status import ApprovalEntry
from ferry.api.project import ApprovalRule

VERIFYING_POLICY = "ferry-verified-approvals"
AUTHOR_ANNOTATION = "ferry.dev/author"


@dataclass(frozen=True)
class Approval:
    """A MigrationApproval of this Migration, as the apiserver admitted it."""

    name: str
    approver: str
    groups: tuple[str, ...]
    plan_hash: str


def approval_from(obj: Mapping[str, Any]) -> Approval:
    """A MigrationApproval object (as listed, or as kept in the operator's index) read."""
    spec = obj.get("spec") or {}
    return Approval(
        name=obj["metadata"]["name"],
        approver=str(spec.get("approver", "")),
        groups=tuple(spec.get("approverGroups") or ()),
        plan_hash=str(spec.get("planHash", "")),
    )


@dataclass(frozen=True)
class ApprovalsRead:
    """A Migration's approvals as read from the cluster, and whether the policy verifying them
    (VERIFYING_POLICY and its binding) is installed."""

    approvals: tuple[Approval, ...]
    verified: bool


@dataclass(frozen=True)
class Tally:
    counted: tuple[str, ...]  # distinct approvers whose approval counts, sorted
    entries: tuple[ApprovalEntry, ...]  # every approval read, counted or not, with why

    @property
    def count(self) -> int:
        return len(self.counted)


def _why_not(approval: Approval, plan_hash: str, rule: ApprovalRule | None, author: str | None) -> str:
    """'' when the approval counts, else the reason it does not."""
    if approval.plan_hash != plan_hash:
        return f"approves plan {approval.plan_hash[:12]}, not the current one"
    if rule is None:
        return ""
    if rule.groups and not set(rule.groups) & set(approval.groups):
        return "the approver is not in any of the groups " + ", ".join(rule.groups)
    if not rule.allow_author:
        if author is None:
            return (f"four eyes: the Migration has no {AUTHOR_ANNOTATION} annotation, so its author "
                    "cannot be told apart from its approvers")  # fmt: skip
        if approval.approver == author:
            return "four eyes: the Migration's author may not approve it"
    return ""


def tally(
    approvals: Sequence[Approval],
    plan_hash: str,
    rule: ApprovalRule | None,
    author: str | None,
    *,
    verified: bool,
) -> Tally:
    """Each approval judged; `verified`: the admission policy that checks approvers is installed
    (without it anyone could type another name, so nothing counts)."""
    entries: list[ApprovalEntry] = []
    counted: set[str] = set()
    for approval in sorted(approvals, key=lambda a: (a.approver, a.name)):
        why = (f"not verified: the admission policy {VERIFYING_POLICY} is not installed" if not verified
               else _why_not(approval, plan_hash, rule, author))  # fmt: skip
        if not why and approval.approver in counted:
            why = "counted once per approver"
        if not why:
            counted.add(approval.approver)
        entry = ApprovalEntry(name=approval.name, approver=approval.approver, plan_hash=approval.plan_hash,
                              counted=not why, reason=why or None)  # fmt: skip
        entries.append(entry)
    return Tally(tuple(sorted(counted)), tuple(entries))
