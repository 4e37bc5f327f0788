"""`kubectl ferry access-review --project NAME [--output json]`: who can do what over a whole Project.

`kubectl ferry access -n NS` (ferry.cli.access) answers for one namespace and a few broad
capabilities; this answers an auditor's list for every namespace of a Project: which users,
groups and ServiceAccounts may create, edit, approve and delete Migrations, create, edit and
delete DatabaseConnections, and read each Secret those connections reference (by name: a
`resourceNames` rule counts). Subjects are those bound in the namespace (RoleBindings) or
cluster-wide (ClusterRoleBindings); every answer is a SubjectAccessReview, so the apiserver's
own authorizer decides (aggregated roles, wildcards, `system:masters` as for a real request).
Same limits as `access`: users who get rights through a group appear as that group; needs
`create` on subjectaccessreviews, `list` on (cluster)rolebindings and DatabaseConnections.
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

from ferry.api.connection import DatabaseConnectionSpec
from ferry.api.kinds import DATABASE_CONNECTION, GROUP, MIGRATION, MIGRATION_APPROVAL, VERSION
from ferry.cli.access import Subject, subjects
from ferry.cli.cluster_api import ClusterError, cluster_api
from ferry.cli.control import EXIT_FAILED, EXIT_OK
from ferry.cli.project_scope import project_namespaces


@dataclass(frozen=True)
class Action:
    name: str
    column: str
    group: str
    resource: str
    verb: str


ACTIONS = (
    Action("create migrations", "mig+", GROUP, MIGRATION.plural, "create"),
    Action("edit migrations", "mig~", GROUP, MIGRATION.plural, "update"),
    Action("delete migrations", "mig-", GROUP, MIGRATION.plural, "delete"),
    Action("approve plans", "approve", GROUP, MIGRATION_APPROVAL.plural, "create"),
    Action("create connections", "conn+", GROUP, DATABASE_CONNECTION.plural, "create"),
    Action("edit connections", "conn~", GROUP, DATABASE_CONNECTION.plural, "update"),
    Action("delete connections", "conn-", GROUP, DATABASE_CONNECTION.plural, "delete"),
)


def sar_allowed(api: client.ApiClient, subject: Subject, attributes: dict[str, Any]) -> bool:
    review = client.AuthorizationV1Api(api).create_subject_access_review(
        {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
         "spec": {**subject.review_identity(), "resourceAttributes": attributes}}
    )  # fmt: skip
    return bool(review.status.allowed)


def action_attributes(action: Action, namespace: str) -> dict[str, Any]:
    return {"namespace": namespace, "group": action.group, "resource": action.resource, "verb": action.verb}


def secret_attributes(namespace: str, secret: str) -> dict[str, Any]:
    return {"namespace": namespace, "group": "", "resource": "secrets", "verb": "get", "name": secret}


def referenced_secrets(api: client.ApiClient, namespace: str) -> list[str]:
    """The Secrets the namespace's DatabaseConnections name (credentials, URL, TLS material)."""
    listed = client.CustomObjectsApi(api).list_namespaced_custom_object(
        GROUP, VERSION, namespace, DATABASE_CONNECTION.plural
    )
    names: set[str] = set()
    for item in listed.get("items", []):
        try:
            spec = DatabaseConnectionSpec.model_validate(item.get("spec") or {})
        except ValueError:
            continue  # the apiserver validated it; an old object the model refuses is not a reference
        names.update(_secret_names(spec.model_dump(by_alias=True)))
    return sorted(names)


def _secret_names(value: Any) -> list[str]:
    """Every `name` under a key ending in `SecretRef` (credentialsSecretRef, urlSecretRef, ...)."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, inner in value.items():
            if key.endswith("SecretRef") and isinstance(inner, dict) and inner.get("name"):
                found.append(str(inner["name"]))
            else:
                found += _secret_names(inner)
    elif isinstance(value, list):
        for inner in value:
            found += _secret_names(inner)
    return found


def review_namespace(api: client.ApiClient, namespace: str) -> list[dict[str, Any]]:
    secrets = referenced_secrets(api, namespace)
    rows = []
    for subject in subjects(api, namespace):
        may = {a.name: sar_allowed(api, subject, action_attributes(a, namespace)) for a in ACTIONS}
        readable = {s: sar_allowed(api, subject, secret_attributes(namespace, s)) for s in secrets}
        if any(may.values()) or any(readable.values()):
            rows.append({"namespace": namespace, "subject": subject.display, "kind": subject.kind,
                         "name": subject.name, "subjectNamespace": subject.namespace, "may": may,
                         "secrets": readable})  # fmt: skip
    return rows


def print_review(console: Console, project: str, rows: list[dict[str, Any]]) -> None:
    table = Table(title=f"Who can do what with project {project}", title_justify="left")
    table.add_column("namespace", overflow="fold")
    table.add_column("subject", overflow="fold", ratio=1)
    for action in ACTIONS:
        table.add_column(action.column, justify="center", no_wrap=True, min_width=len(action.column))
    table.add_column("reads Secrets", overflow="fold")
    for row in rows:
        readable = ", ".join(name for name, yes in row["secrets"].items() if yes)
        table.add_row(escape(row["namespace"]), escape(row["subject"]),
                      *("✓" if row["may"][a.name] else "" for a in ACTIONS), escape(readable))  # fmt: skip
    console.print(table)
    console.print(
        "mig/conn: Migrations/DatabaseConnections; + create, ~ edit (update), - delete; approve: create "
        "MigrationApprovals; reads Secrets: the referenced Secrets it may get. Every mark is a "
        "SubjectAccessReview.",
        highlight=False,
    )


def run_access_review(args: argparse.Namespace) -> int:
    try:
        with cluster_api(args.kubeconfig) as api:
            namespaces = project_namespaces(api, args.project)
            rows = [row for namespace in namespaces for row in review_namespace(api, namespace)]
    except ClusterError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILED
    if args.output == "json":
        print(json.dumps({"project": args.project, "namespaces": namespaces, "subjects": rows}, indent=2))
    else:
        print_review(Console(), args.project, rows)
    return EXIT_OK


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "access-review",
        help="who can create, edit, approve, delete Migrations and connections and read their Secrets, "
        "over a Project",
        description="Ask the apiserver, per subject bound in the Project's namespaces or cluster-wide.",
    )
    parser.add_argument("--project", required=True, help="the Project's name")
    parser.add_argument(
        "--kubeconfig", help="path of the kubeconfig (default: $KUBECONFIG or ~/.kube/config)"
    )
    parser.add_argument("--output", choices=("table", "json"), default="table")
    parser.set_defaults(func=run_access_review)
