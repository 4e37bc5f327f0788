"""`kubectl ferry access -n NAMESPACE [--output json]`: who can do what with Ferry there.

An access review answered by the apiserver's own authorizer, not by reading roles: every subject
bound in the namespace (its RoleBindings) or cluster-wide (ClusterRoleBindings) is asked, with a
SubjectAccessReview per capability, whether it may read Migrations, change them, approve plans,
read the database credentials (Secrets), write a Migration's status (only Ferry should), or
manage Projects. Aggregated roles, wildcards and group membership count as the apiserver counts
them. Needs `create` on subjectaccessreviews and `list` on (cluster)rolebindings: an auditor's
or cluster admin's rights. Users who get rights only through a group are listed as the group.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from typing import Any

from kubernetes import client
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ferry.api.kinds import GROUP, MIGRATION, MIGRATION_APPROVAL, PROJECT
from ferry.cli.cluster_api import ClusterError, cluster_api
from ferry.cli.control import EXIT_FAILED, EXIT_OK, target_namespace


@dataclass(frozen=True)
class Capability:
    name: str
    column: str  # the table's header
    group: str
    resource: str
    verb: str
    namespaced: bool = True


CAPABILITIES = (
    Capability("read migrations", "read", GROUP, MIGRATION.plural, "get"),
    Capability("change migrations", "change", GROUP, MIGRATION.plural, "patch"),
    Capability("approve plans", "approve", GROUP, MIGRATION_APPROVAL.plural, "create"),
    Capability("read credentials", "secrets", "", "secrets", "get"),
    Capability("write status", "status", GROUP, f"{MIGRATION.plural}/status", "patch"),
    Capability("manage projects", "project", GROUP, PROJECT.plural, "create", namespaced=False),
)


@dataclass(frozen=True)
class Subject:
    kind: str  # User, Group, ServiceAccount
    name: str
    namespace: str | None = None

    @property
    def display(self) -> str:
        return f"{self.kind}/{self.namespace}/{self.name}" if self.namespace else f"{self.kind}/{self.name}"

    def review_identity(self) -> dict[str, Any]:
        if self.kind == "ServiceAccount":
            return {"user": f"system:serviceaccount:{self.namespace}:{self.name}",
                    "groups": ["system:serviceaccounts", f"system:serviceaccounts:{self.namespace}",
                               "system:authenticated"]}  # fmt: skip
        if self.kind == "Group":
            return {"groups": [self.name]}
        return {"user": self.name, "groups": ["system:authenticated"]}


def subjects(api: client.ApiClient, namespace: str) -> list[Subject]:
    rbac = client.RbacAuthorizationV1Api(api)
    bindings = [*rbac.list_namespaced_role_binding(namespace).items, *rbac.list_cluster_role_binding().items]
    found = {
        Subject(s.kind, s.name, s.namespace if s.kind == "ServiceAccount" else None)
        for binding in bindings
        for s in binding.subjects or []
    }
    return sorted(found, key=lambda s: (s.kind, s.display))


def allowed(api: client.ApiClient, subject: Subject, capability: Capability, namespace: str) -> bool:
    attributes: dict[str, Any] = {"group": capability.group, "verb": capability.verb}
    resource, _, subresource = capability.resource.partition("/")
    attributes["resource"] = resource
    if subresource:
        attributes["subresource"] = subresource
    if capability.namespaced:
        attributes["namespace"] = namespace
    review = client.AuthorizationV1Api(api).create_subject_access_review(
        {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
         "spec": {**subject.review_identity(), "resourceAttributes": attributes}}
    )  # fmt: skip
    return bool(review.status.allowed)


def review(api: client.ApiClient, namespace: str) -> list[dict[str, Any]]:
    """One row per subject that may do at least one thing, with every capability's answer."""
    rows = []
    for subject in subjects(api, namespace):
        answers = {c.name: allowed(api, subject, c, namespace) for c in CAPABILITIES}
        if any(answers.values()):
            rows.append({"subject": subject.display, **answers})
    return rows


def print_review(console: Console, namespace: str, rows: list[dict[str, Any]]) -> None:
    table = Table(title=f"Who can do what with Ferry in namespace {namespace}", title_justify="left")
    table.add_column("subject", overflow="fold", ratio=1)
    for capability in CAPABILITIES:
        table.add_column(capability.column, justify="center", no_wrap=True, min_width=len(capability.column))
    for row in rows:
        table.add_row(escape(row["subject"]), *("✓" if row[c.name] else "" for c in CAPABILITIES))
    console.print(table)
    legend = (
        "read: get Migrations; change: patch them; approve: create MigrationApprovals; secrets: get "
        "the namespace's Secrets; status: patch Migration status (only Ferry's operator and workers "
        "should); project: create Projects."
    )
    console.print(legend, highlight=False)


def run_access(args: argparse.Namespace) -> int:
    namespace = target_namespace(args)
    try:
        with cluster_api(args.kubeconfig) as api:
            rows = review(api, namespace)
    except ClusterError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILED
    if args.output == "json":
        print(json.dumps({"namespace": namespace, "subjects": rows}, indent=2))
    else:
        print_review(Console(), namespace, rows)
    return EXIT_OK


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "access",
        help="access review: who can read, change or approve Migrations, read credentials, in a namespace",
        description="Ask the apiserver, per subject bound in the namespace or cluster-wide, what it may do.",
    )
    parser.add_argument("-n", "--namespace", help="the namespace (default: the kubeconfig's)")
    parser.add_argument(
        "--kubeconfig", help="path of the kubeconfig (default: $KUBECONFIG or ~/.kube/config)"
    )
    parser.add_argument("--output", choices=("table", "json"), default="table")
    parser.set_defaults(func=run_access)
