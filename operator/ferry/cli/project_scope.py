"""The namespaces a Project's review commands look at (`compliance`, `access-review`).

A Project owns its namespace (`spec.namespace`, default its name; `status.namespace` once the
operator made it). Returned as a list so the reviews read as "over the Project's namespaces"
and stay right should a Project come to own more than one.
"""

from __future__ import annotations

from kubernetes import client

from ferry.api.kinds import PROJECT
from ferry.api.project import ProjectSpec
from ferry.kube.project_objects import project_namespace
from ferry.kube.status import get_object


def project_namespaces(api: client.ApiClient, project: str) -> list[str]:
    obj = get_object(api, PROJECT, None, project)
    status = obj.get("status") or {}
    spec = ProjectSpec.model_validate(obj.get("spec") or {})
    return [str(status.get("namespace") or project_namespace(project, spec))]
