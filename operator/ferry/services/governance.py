"""The Project that governs a namespace: from the operator's index of Projects, or listed."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

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


# The operator's kopf index of Projects (ferry.controllers.project.project_index): the namespace
# a Project governs -> (Project name, its spec as stored). Specs are parsed at lookup, so a spec
# that does not parse fails the lookup (as a listing would) instead of leaving the namespace
# ungoverned.
ProjectIndex = Mapping[str, Collection[tuple[str, Mapping[str, Any]]]]


def index_key(name: str, spec: Mapping[str, Any]) -> str:
    """The namespace a Project governs, from its raw spec (`project_namespace` on the parsed one)."""
    return str(spec.get("namespace") or name)


def governance_from_index(index: ProjectIndex, namespace: str) -> Governance:
    """As `governance_for`, without a request: the first Project by name that owns `namespace`."""
    for name, raw in sorted(index.get(namespace, ()), key=lambda entry: entry[0]):
        spec = ProjectSpec.model_validate(dict(raw))
        return Governance(name, spec.policy, spec.defaults, tuple(spec.notifications))
    return Governance(None)
