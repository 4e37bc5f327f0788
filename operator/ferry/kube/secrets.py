"""Read the keys of Kubernetes Secrets for `ferry.db.credentials.resolve_credentials`.

Errors name the Secret and the key and never carry a value or an API response body
(which would hold the whole Secret).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from ferry.db.credentials import SecretError, SecretKeyMissing, SecretNotFound


class SecretUnreadable(SecretError):
    """The Secret exists (or may) but the operator may not read it, or its value is not text."""

    reason = "SecretUnreadable"

    def __init__(self, name: str, why: str) -> None:
        super().__init__(f'Secret "{name}" cannot be read: {why}')
        self.secret_name = name


class KubeSecretSource:
    """A SecretSource over one namespace; each Secret is read once per instance (one resolution)."""

    def __init__(self, core_v1_api: client.CoreV1Api, namespace: str) -> None:
        self._api = core_v1_api
        self._namespace = namespace
        self._cache: dict[str, dict[str, str]] = {}

    def get(self, name: str, key: str) -> str:
        data = self._cache.get(name)
        if data is None:
            data = self._cache[name] = self._read(name)
        if key not in data:
            raise SecretKeyMissing(name, key)
        try:
            return base64.b64decode(data[key], validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            raise SecretUnreadable(name, f'key "{key}" is not UTF-8 text') from None

    def _read(self, name: str) -> dict[str, str]:
        try:
            secret = self._api.read_namespaced_secret(name, self._namespace)
        except ApiException as exc:
            if exc.status == 404:
                raise SecretNotFound(name) from None
            if exc.status == 403:
                raise SecretUnreadable(name, "the operator is not allowed to read it (RBAC)") from None
            raise SecretUnreadable(name, f"the API server answered {exc.status} {exc.reason}") from None
        data: dict[str, str] = dict(secret.data or {})
        return data


# Only the Secret's metadata crosses the wire: the apiserver answers a GET with this Accept header
# with a PartialObjectMetadata (no data), so watching for changes never reads a credential.
METADATA_ONLY = "application/json;as=PartialObjectMetadata;g=meta.k8s.io;v=v1"


def secret_versions(api: client.ApiClient, namespace: str, names: Iterable[str]) -> dict[str, str]:
    """name -> resourceVersion of each named Secret of `namespace` ("" when absent or unreadable).

    A `get` per Secret, not a list or watch: the operator needs no cluster-wide read of Secrets to
    notice that a connection's Secret changed.
    """
    core = client.CoreV1Api(api)
    versions: dict[str, str] = {}
    for name in names:
        try:
            response = core.read_namespaced_secret(
                name, namespace, _preload_content=False, _headers={"Accept": METADATA_ONLY}
            )
        except ApiException:
            versions[name] = ""  # the probe reports why (not found, forbidden)
            continue
        metadata = json.loads(response.data).get("metadata") or {}
        versions[name] = str(metadata.get("resourceVersion", ""))
    return versions
