"""The Project that governs a namespace, looked up in the cluster."""

from __future__ import annotations

from kubernetes import client

from ferry.api.kinds import GROUP, PROJECT, VERSION
from ferry.api.project import ProjectSpec
from ferry.kube.project_objects import project_namespace
from ferry.services.policy import Governance


def governance_for(api: client.ApiClient, namespace: str) -> Governance:
    """The Project that owns `namespace`, if any; its policy and defaults."""
    listing = client.CustomObjectsApi(api).list_cluster_custom_object(GROUP, VERSION, PROJECT.plural)
    for item in listing.get("items", []):
        spec = ProjectSpec.model_validate(item.get("spec") or {})
        if project_namespace(item["metadata"]["name"], spec) == namespace:
            return Governance(item["metadata"]["name"], spec.policy, spec.defaults, tuple(spec.notifications))
    return Governance(None)
