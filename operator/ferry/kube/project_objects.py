"""Pure builders of the objects a Project owns (its namespace, RoleBindings and ResourceQuota),
and the rule for which namespace it may own."""

from __future__ import annotations

from typing import Any

from ferry.api import conditions as c
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


# Namespaces a Project never takes, labelled or not: the cluster's own.
RESERVED_NAMESPACES = frozenset({"default", "kube-system", "kube-public", "kube-node-lease"})


def namespace_refusal(project: str, namespace: str, owner: str | None) -> tuple[str, str] | None:
    """Why the Project must not take the namespace, or None. A Project creates its namespace, or
    takes one its label hands to it; it never adopts a namespace that exists without Ferry's
    label (kube-system, another team's), since binding members there would give them access."""
    if namespace in RESERVED_NAMESPACES or namespace.startswith("kube-"):
        return c.NAMESPACE_NOT_FERRYS, f'namespace "{namespace}" is reserved for the cluster; choose another'
    if owner is None or owner == project:
        return None
    if owner:
        return c.NAMESPACE_OWNED_ELSEWHERE, f'namespace "{namespace}" belongs to Project "{owner}"'
    return c.NAMESPACE_NOT_FERRYS, (
        f'namespace "{namespace}" exists and was not created by Ferry; to hand it to this Project, '
        f"label it {PROJECT_LABEL}={project} (kubectl label namespace {namespace} {PROJECT_LABEL}={project})"
    )


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
