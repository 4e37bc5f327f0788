"""`kubectl ferry approve mig/NAME [--hash H] [--comment TEXT]`: approve a Migration's plan as yourself.

Creates a MigrationApproval in the approver's own name for the plan in `status.plan.hash`. The
name and groups come from the apiserver (a SelfSubjectReview: who the kubeconfig authenticates
as), and the admission policy `ferry-verified-approvals` refuses any other name, so an approval
always says who approved. Needs `create` on migrationapprovals (the ferry-approver or
ferry-admin role). One approval per person and plan: approving again says so and changes nothing.
"""

from __future__ import annotations

import argparse
import hashlib
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from ferry.api.kinds import API_VERSION, GROUP, MIGRATION, MIGRATION_APPROVAL, VERSION
from ferry.cli.control import Action, Refused, add_target_arguments, display, run_against_api
from ferry.kube.status import get_object

# Hashes shown by `kubectl get mig -o wide` are full; a prefix this long is unambiguous enough.
MIN_HASH_PREFIX = 8


def current_plan_hash(obj: dict[str, Any]) -> str | None:
    plan = (obj.get("status") or {}).get("plan") or {}
    value = plan.get("hash")
    return str(value) if value else None


def approve_plan(obj: dict[str, Any], requested: str | None) -> str:
    """The plan hash to approve; refuses when there is no plan or it is not the one the user reviewed."""
    phase = (obj.get("status") or {}).get("phase", "Pending")
    current = current_plan_hash(obj)
    if current is None:
        raise Refused(f"there is no plan to approve yet (phase {phase}); wait for planning to finish")
    if requested is not None and not (
        requested == current or (len(requested) >= MIN_HASH_PREFIX and current.startswith(requested))
    ):
        raise Refused(
            f"the plan changed: you asked to approve {requested} but the current plan is {current}; "
            "review it again with `ferry plan`"
        )
    return current


def whoami(api: client.ApiClient) -> tuple[str, list[str]]:
    """The user name and groups the apiserver authenticates this client as."""
    review = client.AuthenticationV1Api(api).create_self_subject_review(
        {"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"}
    )
    info = review.status.user_info
    return str(info.username), list(info.groups or [])


def approval_name(migration: str, plan_hash: str, approver: str) -> str:
    """One name per (Migration, plan, person): creating it twice is an AlreadyExists, not a second vote."""
    person = hashlib.sha256(approver.encode()).hexdigest()[:8]
    return f"{migration[:40]}-{plan_hash[:12]}-{person}"


def approval_object(
    migration: str, plan_hash: str, approver: str, groups: list[str], comment: str | None
) -> dict[str, Any]:
    spec: dict[str, Any] = {"migrationRef": {"name": migration}, "planHash": plan_hash, "approver": approver,
                            "approverGroups": groups}  # fmt: skip
    if comment:
        spec["comment"] = comment
    return {
        "apiVersion": API_VERSION,
        "kind": MIGRATION_APPROVAL.kind,
        "metadata": {
            "name": approval_name(migration, plan_hash, approver),
            "labels": {"ferry.dev/migration": migration[:63]},
        },
        "spec": spec,
    }


def approve_action(args: argparse.Namespace) -> Action:
    def action(api: client.ApiClient, namespace: str, name: str) -> str:
        obj = get_object(api, MIGRATION, namespace, name)
        plan_hash = approve_plan(obj, args.hash)
        approver, groups = whoami(api)
        body = approval_object(name, plan_hash, approver, groups, args.comment)
        try:
            client.CustomObjectsApi(api).create_namespaced_custom_object(
                GROUP, VERSION, namespace, MIGRATION_APPROVAL.plural, body
            )
        except ApiException as exc:
            if exc.status != 409:
                raise
            return f"{display(namespace, name)} plan {plan_hash} was already approved by {approver}"
        return (
            f"{display(namespace, name)} plan {plan_hash} approved by {approver} "
            f"(MigrationApproval {body['metadata']['name']}); kubectl ferry status mig/{name} shows the count"
        )

    return action


def register(subparsers: Any) -> None:
    approve = subparsers.add_parser(
        "approve",
        help="approve the current plan of a Migration, as yourself",
        description="Create a MigrationApproval in your own name (verified by the apiserver) for the plan "
        "in status.plan; the Project's policy.approvals says how many are needed.",
    )
    add_target_arguments(approve)
    approve.add_argument(
        "--hash",
        help="approve only if the current plan has this hash (or a prefix of at least 8 characters)",
    )
    approve.add_argument("--comment", help="why you approve (kept in the MigrationApproval)")
    approve.set_defaults(func=lambda args: run_against_api(args, action=approve_action(args)))
