"""Server-side apply for the plain Kubernetes objects Ferry owns.

Apply is idempotent (an operator restart re-applies the same objects without conflict) and
never fights other field managers over fields Ferry does not set.
"""

from __future__ import annotations

import json
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

FIELD_MANAGER = "ferry-operator"

# kind → (API path prefix, plural, namespaced) for every kind Ferry applies.
_RESOURCES: dict[str, tuple[str, str, bool]] = {
    "Namespace": ("/api/v1", "namespaces", False),
    "ServiceAccount": ("/api/v1", "serviceaccounts", True),
    "ResourceQuota": ("/api/v1", "resourcequotas", True),
    "ConfigMap": ("/api/v1", "configmaps", True),
    "Role": ("/apis/rbac.authorization.k8s.io/v1", "roles", True),
    "RoleBinding": ("/apis/rbac.authorization.k8s.io/v1", "rolebindings", True),
    "Job": ("/apis/batch/v1", "jobs", True),
}


def object_path(obj: dict[str, Any]) -> str:
    prefix, plural, namespaced = _RESOURCES[obj["kind"]]
    name = obj["metadata"]["name"]
    if namespaced:
        return f"{prefix}/namespaces/{obj['metadata']['namespace']}/{plural}/{name}"
    return f"{prefix}/{plural}/{name}"


def server_side_apply(api: client.ApiClient, obj: dict[str, Any]) -> dict[str, Any]:
    method, url, headers, body, post_params = api.param_serialize(
        "PATCH",
        object_path(obj),
        query_params=[("fieldManager", FIELD_MANAGER), ("force", "true")],
        header_params={"Content-Type": "application/apply-patch+yaml", "Accept": "application/json"},
        body=obj,
        auth_settings=["BearerToken"],
    )
    response = api.call_api(method, url, header_params=headers, body=body, post_params=post_params)
    data = response.read()
    if not 200 <= response.status < 300:
        raise ApiException(status=response.status, reason=response.reason, body=data)
    applied: dict[str, Any] = json.loads(data)
    return applied
