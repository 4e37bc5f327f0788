"""Which Migrations of a namespace use which connections, read from the API for the connection
budget (ferry.services.connection_budget, kept free of the Kubernetes client because `ferry run`
uses it too)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from kubernetes import client

from ferry.api import conditions as c
from ferry.api.kinds import GROUP, MIGRATION, VERSION
from ferry.services.connection_budget import HOLDING_PHASES, ConnectionUse


def uses_from_objects(items: Iterable[dict[str, Any]]) -> list[ConnectionUse]:
    """The Migrations of a list answer as the budget sees them (raw dicts read at this edge only)."""
    uses = []
    for item in items:
        spec, status = item.get("spec") or {}, item.get("status") or {}
        names = (
            ((spec.get("source") or {}).get("connectionRef") or {}).get("name", ""),
            ((spec.get("target") or {}).get("connectionRef") or {}).get("name", ""),
        )
        ready: dict[str, Any] = next(
            (x for x in status.get("conditions") or [] if x.get("type") == c.READY), {}
        )
        phase = str(status.get("phase", "Pending"))
        uses.append(ConnectionUse(item["metadata"]["name"], phase, names, ready.get("reason")))
    return uses


def list_uses(api: client.ApiClient, namespace: str) -> list[ConnectionUse]:
    listed = client.CustomObjectsApi(api).list_namespaced_custom_object(
        GROUP, VERSION, namespace, MIGRATION.plural
    )
    return uses_from_objects(listed.get("items", []))


def held_by(api: client.ApiClient, namespace: str, connection: str) -> str | None:
    """The Migration that uses a capped connection now (its probe waits meanwhile), or None."""
    for use in list_uses(api, namespace):
        if connection in use.connections and use.phase in HOLDING_PHASES:
            return use.migration
    return None
