"""Pure builders of the objects a Project owns: its namespace, RoleBindings and ResourceQuota."""

from __future__ import annotations

from typing import Any

from ferry.api.kinds import API_VERSION, GROUP, PROJECT
from ferry.api.project import Member, MemberKind, ProjectSpec

PROJECT_LABEL = f"{GROUP}/project"
MANAGED_BY: dict[str, str] = {"app.kubernetes.io/managed-by": "ferry"}
ROLE_CLUSTERROLES = {
    "admin": "ferry-admin",
    "approver": "ferry-approver",
    "editor": "ferry-editor",
    "viewer": "ferry-viewer",
}


def project_labels(project: str) -> dict[str, str]:
    return {PROJECT_LABEL: project, **MANAGED_BY}


def project_namespace(name: str, spec: ProjectSpec) -> str:
    return spec.namespace or name


def owner_reference(name: str, uid: str) -> dict[str, Any]:
    return {"apiVersion": API_VERSION, "kind": PROJECT.kind, "name": name, "uid": uid, "controller": True}


def build_namespace(project: str, namespace: str) -> dict[str, Any]:
    # No owner reference: deleting a Project must never delete a namespace full of data.
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {"name": namespace, "labels": project_labels(project)},
    }


def _subject(member: Member, namespace: str) -> dict[str, Any]:
    if member.kind == MemberKind.SERVICE_ACCOUNT:
        return {"kind": "ServiceAccount", "name": member.name, "namespace": member.namespace or namespace}
    return {"kind": member.kind.value, "name": member.name, "apiGroup": "rbac.authorization.k8s.io"}


def build_role_bindings(project: str, uid: str, namespace: str, spec: ProjectSpec) -> list[dict[str, Any]]:
    """One RoleBinding per role that has members, bound to the aggregated ClusterRole."""
    bindings = []
    for role, cluster_role in ROLE_CLUSTERROLES.items():
        members = [m for m in spec.members if m.role.value == role]
        if not members:
            continue
        bindings.append(
            {
                "apiVersion": "rbac.authorization.k8s.io/v1",
                "kind": "RoleBinding",
                "metadata": {
                    "name": f"ferry-{role}",
                    "namespace": namespace,
                    "labels": project_labels(project),
                    "ownerReferences": [owner_reference(project, uid)],
                },
                "roleRef": {
                    "apiGroup": "rbac.authorization.k8s.io",
                    "kind": "ClusterRole",
                    "name": cluster_role,
                },
                "subjects": [_subject(m, namespace) for m in members],
            }
        )
    return bindings


def build_resource_quota(project: str, uid: str, namespace: str, spec: ProjectSpec) -> dict[str, Any] | None:
    quota = spec.quota
    if quota is None:
        return None
    hard: dict[str, str] = {}
    if quota.max_jobs is not None:
        hard["count/jobs.batch"] = str(quota.max_jobs)
    if quota.cpu is not None:
        hard["requests.cpu"] = quota.cpu
    if quota.memory is not None:
        hard["requests.memory"] = quota.memory
    if not hard:
        return None
    return {
        "apiVersion": "v1",
        "kind": "ResourceQuota",
        "metadata": {
            "name": "ferry-project",
            "namespace": namespace,
            "labels": project_labels(project),
            "ownerReferences": [owner_reference(project, uid)],
        },
        "spec": {"hard": hard},
    }
