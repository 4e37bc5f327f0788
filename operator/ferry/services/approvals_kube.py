"""Read a Migration's MigrationApprovals, and whether the apiserver verifies their approvers.

An approval's `approver` is trustworthy only where the admission policy
`ferry-verified-approvals` is installed and bound with `Deny`: without it anyone allowed to
create MigrationApprovals could type another person's name. So the operator checks the policy
and its binding each time it reads approvals; ferry.services.approvals counts nothing when
they are missing, and status says so. In the operator the approvals themselves come from its
kopf index (ferry.services.approval_index); `read_approvals` lists them where there is none.
"""

from __future__ import annotations

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from ferry.api.kinds import GROUP, MIGRATION_APPROVAL, VERSION
from ferry.services.approval_index import ApprovalIndex, indexed_approvals
from ferry.services.approvals import VERIFYING_POLICY, Approval, ApprovalsRead, approval_from


def approvers_verified(api: client.ApiClient) -> bool:
    admission = client.AdmissionregistrationV1Api(api)
    try:
        admission.read_validating_admission_policy(VERIFYING_POLICY)
        binding = admission.read_validating_admission_policy_binding(VERIFYING_POLICY)
    except ApiException as exc:
        if exc.status == 404:
            return False
        raise
    return binding.spec.policy_name == VERIFYING_POLICY and "Deny" in (binding.spec.validation_actions or [])


def read_approvals(api: client.ApiClient, namespace: str, migration: str) -> ApprovalsRead:
    listed = client.CustomObjectsApi(api).list_namespaced_custom_object(
        GROUP, VERSION, namespace, MIGRATION_APPROVAL.plural
    )
    mine = [
        approval_from(obj) for obj in listed.get("items", [])
        if ((obj.get("spec") or {}).get("migrationRef") or {}).get("name") == migration
    ]  # fmt: skip
    return _judged(api, tuple(mine))


def read_indexed_approvals(
    api: client.ApiClient, index: ApprovalIndex, namespace: str, migration: str
) -> ApprovalsRead:
    """As `read_approvals`, the approvals from the operator's index instead of a listing."""
    return _judged(api, indexed_approvals(index, namespace, migration))


def _judged(api: client.ApiClient, mine: tuple[Approval, ...]) -> ApprovalsRead:
    return ApprovalsRead(mine, verified=approvers_verified(api) if mine else False)
