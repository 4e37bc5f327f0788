"""The one way Ferry writes status from outside a kopf handler: a merge patch of owned fields.

Inside kopf handlers, status goes through kopf's `patch` object (see controllers); the
worker and the CLI use this helper. A merge patch touches only the fields given, so the
worker (progress, tables) and the operator (phase, conditions) never overwrite each other.
"""

from __future__ import annotations

from typing import Any

from kubernetes import client

from ferry.api.kinds import GROUP, VERSION, Kind


def patch_status(
    api: client.ApiClient,
    kind: Kind,
    namespace: str | None,
    name: str,
    status: dict[str, Any],
    timeout: float | None = None,
) -> None:
    """`timeout`: seconds for the request (None: the client's, which waits as long as it takes)."""
    custom = client.CustomObjectsApi(api)
    body = {"status": status}
    extra = {"_request_timeout": timeout} if timeout is not None else {}
    if kind.namespaced:
        custom.patch_namespaced_custom_object_status(
            GROUP, VERSION, namespace, kind.plural, name, body, **extra
        )
    else:
        custom.patch_cluster_custom_object_status(GROUP, VERSION, kind.plural, name, body, **extra)


def patch_spec(api: client.ApiClient, kind: Kind, namespace: str, name: str, spec: dict[str, Any]) -> None:
    """Merge-patch fields of a namespaced object's spec (the CLI's approve/suspend/resume)."""
    client.CustomObjectsApi(api).patch_namespaced_custom_object(
        GROUP, VERSION, namespace, kind.plural, name, {"spec": spec}
    )


def get_object(
    api: client.ApiClient, kind: Kind, namespace: str | None, name: str, timeout: float | None = None
) -> dict[str, Any]:
    custom = client.CustomObjectsApi(api)
    extra = {"_request_timeout": timeout} if timeout is not None else {}
    if kind.namespaced:
        obj: dict[str, Any] = custom.get_namespaced_custom_object(
            GROUP, VERSION, namespace, kind.plural, name, **extra
        )
    else:
        obj = custom.get_cluster_custom_object(GROUP, VERSION, kind.plural, name, **extra)
    return obj
