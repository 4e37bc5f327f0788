"""A Migration's `connectionRef`: the DatabaseConnection it names, if it exists and is Ready;
read from the API, or (in the operator) from kopf's index of DatabaseConnections."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

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
            return None, _not_found(namespace, name)
        raise
    return _ready(obj, name)


# The operator's kopf index of DatabaseConnections (ferry.controllers.connection.connection_index):
# (namespace, name) -> the object's spec and status as last seen by the watch.
ConnectionIndex = Mapping[tuple[str, str], Collection[Mapping[str, Any]]]


def indexed_connection(
    index: ConnectionIndex, namespace: str, name: str
) -> tuple[DatabaseConnectionSpec | None, str]:
    """As `ready_connection`, from the index instead of a request."""
    for obj in index.get((namespace, name), ()):
        return _ready(obj, name)
    return None, _not_found(namespace, name)


def _not_found(namespace: str, name: str) -> str:
    return f'DatabaseConnection "{name}" not found in namespace "{namespace}"'


def _ready(obj: Mapping[str, Any], name: str) -> tuple[DatabaseConnectionSpec | None, str]:
    status = DatabaseConnectionStatus.model_validate(obj.get("status") or {})
    if not status.is_true(c.READY):
        ready = status.condition(c.READY)
        why = f": {ready.reason}: {ready.message}" if ready else ""
        return None, f'DatabaseConnection "{name}" is not Ready{why}'
    return DatabaseConnectionSpec.model_validate(obj["spec"]), ""
