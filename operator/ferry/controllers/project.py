"""Project handlers: own a namespace, bind members to Ferry's roles, apply quota, count migrations."""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from typing import Any

import kopf
from kubernetes import client
from kubernetes.client.exceptions import ApiException
from pydantic import ValidationError

from ferry.api import conditions as c
from ferry.api.kinds import GROUP, MIGRATION, PROJECT, VERSION
from ferry.api.project import ProjectSpec, ProjectStatus
from ferry.api.spec_errors import spec_problems
from ferry.kube.apply import server_side_apply
from ferry.kube.client import shared_api_client
from ferry.kube.project_objects import (
    PROJECT_LABEL,
    build_namespace,
    build_resource_quota,
    build_role_bindings,
    namespace_refusal,
    project_namespace,
)
from ferry.kube.run_report import read_reports
from ferry.observability.metrics import forget_project_usage, record_project_usage
from ferry.services.governance import index_key
from ferry.services.usage import project_usage


def _namespace_owner(core: client.CoreV1Api, namespace: str) -> str | None:
    """The project that labelled an existing namespace, '' for an unlabelled one, None if absent."""
    try:
        existing = core.read_namespace(namespace)
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise
    labels = existing.metadata.labels or {}
    owner: str = labels.get(PROJECT_LABEL, "")
    return owner


def reconcile_project(
    api: client.ApiClient, name: str, uid: str, spec: ProjectSpec, status: ProjectStatus, generation: int
) -> None:
    namespace = project_namespace(name, spec)
    status.namespace = namespace
    status.observed_generation = generation
    owner = _namespace_owner(client.CoreV1Api(api), namespace)
    refusal = namespace_refusal(name, namespace, owner)
    if refusal is not None:
        status.mark_refused(*refusal, generation)
        return
    server_side_apply(api, build_namespace(name, namespace))
    bindings = build_role_bindings(name, uid, namespace, spec)
    for binding in bindings:
        server_side_apply(api, binding)
    _prune_role_bindings(api, name, namespace, {b["metadata"]["name"] for b in bindings})
    quota = build_resource_quota(name, uid, namespace, spec)
    if quota is not None:
        server_side_apply(api, quota)
    status.mark_reconciled(namespace, generation)


def _prune_role_bindings(api: client.ApiClient, project: str, namespace: str, keep: set[str]) -> None:
    """Remove bindings of roles that no longer have members, so revoking access works."""
    rbac = client.RbacAuthorizationV1Api(api)
    for binding in rbac.list_namespaced_role_binding(
        namespace, label_selector=f"{PROJECT_LABEL}={project}"
    ).items:
        if binding.metadata.name not in keep:
            rbac.delete_namespaced_role_binding(binding.metadata.name, namespace)


def count_migrations(api: client.ApiClient, namespace: str) -> dict[str, int]:
    items = client.CustomObjectsApi(api).list_namespaced_custom_object(
        GROUP, VERSION, namespace, MIGRATION.plural
    )
    counts: dict[str, int] = {}
    for item in items.get("items", []):
        phase = (item.get("status") or {}).get("phase", "Pending")
        counts[phase] = counts.get(phase, 0) + 1
    return counts


@kopf.index(GROUP, VERSION, PROJECT.plural)
def project_index(name: str, spec: kopf.Spec, **_: Any) -> dict[str, tuple[str, dict[str, Any]]]:
    """Projects by the namespace they govern (ferry.services.governance.ProjectIndex): the
    Migration and DatabaseConnection handlers read a namespace's Project from here instead of
    listing every Project per reconcile. kopf fills the index before any handler runs and keeps
    it current from its watch of Projects."""
    raw = copy.deepcopy(dict(spec))
    return {index_key(name, raw): (name, raw)}


@kopf.on.resume(GROUP, VERSION, PROJECT.plural)
@kopf.on.create(GROUP, VERSION, PROJECT.plural)
@kopf.on.update(GROUP, VERSION, PROJECT.plural, field="spec")
def project_changed(
    name: str, uid: str, spec: kopf.Spec, status: kopf.Status, meta: kopf.Meta, patch: kopf.Patch, **_: Any
) -> None:
    current = ProjectStatus.model_validate(dict(status))
    generation = int(meta.get("generation", 0))
    try:
        parsed = ProjectSpec.model_validate(dict(spec))
    except ValidationError as exc:  # stored under an older CRD: said once, not retried by kopf
        current.set_condition(c.STALLED, "True", c.INVALID_SPEC, spec_problems(exc), generation)
        current.set_condition(c.READY, "False", c.INVALID_SPEC, spec_problems(exc), generation)
        current.observed_generation = generation
        patch.status.update(current.to_wire())
        return
    reconcile_project(shared_api_client(), name, uid, parsed, current, int(meta.get("generation", 0)))
    patch.status.update(current.to_wire())


@kopf.timer(GROUP, VERSION, PROJECT.plural, interval=30, initial_delay=5)
def project_counts(name: str, spec: kopf.Spec, status: kopf.Status, patch: kopf.Patch, **_: Any) -> None:
    try:
        parsed = ProjectSpec.model_validate(dict(spec))
    except ValidationError:
        return  # project_changed has reported it
    namespace = str(status.get("namespace") or "") or project_namespace(name, parsed)
    api = shared_api_client()
    try:
        patch.status["migrationsByPhase"] = count_migrations(api, namespace)
        usage = project_usage(read_reports(api, namespace), parsed.cost, datetime.now(UTC))
        patch.status["usage"] = usage.to_wire()
        record_project_usage(name, usage)
    except ApiException as exc:
        if exc.status != 404:
            raise


@kopf.on.delete(GROUP, VERSION, PROJECT.plural, optional=True)
def project_deleted(name: str, **_: Any) -> None:
    """Its usage series go with it (optional: no finalizer holds the deletion for this)."""
    forget_project_usage(name)
