"""A Migration's `connectionRef`: the DatabaseConnection it names, if it exists and is Ready."""

from __future__ import annotations

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from ferry.api import conditions as c
from ferry.api.connection import DatabaseConnectionSpec, DatabaseConnectionStatus
from ferry.api.kinds import DATABASE_CONNECTION
from ferry.kube.status import get_object


def ready_connection(
    api: client.ApiClient, namespace: str, name: str
) -> tuple[DatabaseConnectionSpec | None, str]:
    """The connection's spec, or None and why not (missing, or not Ready and its reason)."""
    try:
        obj = get_object(api, DATABASE_CONNECTION, namespace, name)
    except ApiException as exc:
        if exc.status == 404:
            return None, f'DatabaseConnection "{name}" not found in namespace "{namespace}"'
        raise
    status = DatabaseConnectionStatus.model_validate(obj.get("status") or {})
    if not status.is_true(c.READY):
        ready = status.condition(c.READY)
        why = f": {ready.reason}: {ready.message}" if ready else ""
        return None, f'DatabaseConnection "{name}" is not Ready{why}'
    return DatabaseConnectionSpec.model_validate(obj["spec"]), ""
