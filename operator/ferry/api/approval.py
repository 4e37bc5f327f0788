"""MigrationApproval: one person's approval of one plan of one Migration.

An approval is an act of an identity the apiserver verified, not a hash someone typed: the
admission policy `ferry-verified-approvals` (manifests/install/policy-approvals.yaml) admits a
MigrationApproval only when `spec.approver` is the requesting user's own name and every group
in `spec.approverGroups` is one of the user's own groups. RBAC on this kind is who may approve
(`ferry-approver`, `ferry-admin`). The operator counts distinct valid approvers of the current
plan hash against the Project's rule (`policy.approvals`: how many, from which groups, whether
the Migration's author may approve) and lists what it counted in `Migration.status.approvals`.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from ferry.api.base import ApiModel, ConditionedStatus, LocalObjectReference

PLAN_HASH_PATTERN = r"^[0-9a-f]{64}$"
GroupName = Annotated[str, Field(min_length=1, max_length=253)]


class MigrationApprovalSpec(ApiModel):
    migration_ref: LocalObjectReference = Field(description="The Migration approved (same namespace).")
    plan_hash: str = Field(
        pattern=PLAN_HASH_PATTERN,
        description="The plan approved (status.plan.hash): a later plan needs a new approval.",
    )
    approver: str = Field(
        min_length=1, max_length=253,
        description="Who approves: must be the requesting user's name (checked at admission).",
    )  # fmt: skip
    approver_groups: list[GroupName] = Field(
        default_factory=list,
        max_length=64,
        description="Groups the approver claims (each checked at admission against the user's own); "
        "a Project's policy.approvals.groups is matched against these.",
    )
    comment: str | None = Field(default=None, max_length=1024, description="Why you approve, for the record.")

    model_config = {
        "json_schema_extra": {
            "x-kubernetes-validations": [
                {
                    "rule": "self == oldSelf",
                    "message": "an approval cannot be changed; delete it and approve again",
                }
            ]
        }
    }


class MigrationApprovalStatus(ConditionedStatus):
    """Unused: what the operator made of an approval is in Migration.status.approvals."""
