"""What a kubelet computes before starting a container: its environment and its argv.

Kept apart from `harness.podrunner` (which talks to the API and runs processes) because these
rules are the kubelet's, and a pod that needs a missing Secret must wait, not fail.
"""

from __future__ import annotations

import base64
import re
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

_FIELD_MAP_RE = re.compile(r"^metadata\.(labels|annotations)\['(.+)'\]$")
_VAR_REF_RE = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")


class ContainerConfigError(Exception):
    """The container cannot start yet (a Secret or ConfigMap or key is missing); the kubelet retries."""


def expand(text: str, env: dict[str, str]) -> str:
    """Kubernetes `$(VAR)` expansion: known variables replaced, `$$` escapes, unknown refs kept."""

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        name = match.group(1)
        return env.get(name, match.group(0))

    return _VAR_REF_RE.sub(replace, text)


def field_value(pod: dict[str, Any], path: str) -> str:
    """The downward API: the value of a `fieldRef.fieldPath` on this pod."""
    metadata, spec, status = pod["metadata"], pod.get("spec") or {}, pod.get("status") or {}
    simple = {
        "metadata.name": metadata.get("name"),
        "metadata.namespace": metadata.get("namespace"),
        "metadata.uid": metadata.get("uid"),
        "spec.nodeName": spec.get("nodeName"),
        "spec.serviceAccountName": spec.get("serviceAccountName"),
        "status.hostIP": status.get("hostIP", "127.0.0.1"),
        "status.podIP": status.get("podIP", "127.0.0.1"),
    }
    if path in simple:
        return str(simple[path] or "")
    match = _FIELD_MAP_RE.match(path)
    if match is None:
        raise ContainerConfigError(f"unsupported fieldRef {path!r}")
    return str((metadata.get(match.group(1)) or {}).get(match.group(2), ""))


class _Lookup:
    """Reads Secrets and ConfigMaps of the pod's namespace, each once per container start."""

    def __init__(self, core: client.CoreV1Api, namespace: str) -> None:
        self.core = core
        self.namespace = namespace
        self._cache: dict[tuple[str, str], dict[str, str] | None] = {}

    def data(self, kind: str, name: str) -> dict[str, str] | None:
        if (kind, name) not in self._cache:
            try:
                if kind == "secret":
                    raw = self.core.read_namespaced_secret(name, self.namespace).data or {}
                    value = {k: base64.b64decode(v).decode() for k, v in raw.items()}
                else:
                    value = dict(self.core.read_namespaced_config_map(name, self.namespace).data or {})
            except ApiException as error:
                if error.status != 404:
                    raise
                value = None
            self._cache[(kind, name)] = value
        return self._cache[(kind, name)]

    def key(self, kind: str, ref: dict[str, Any]) -> str | None:
        data = self.data(kind, ref["name"])
        if data is None or ref["key"] not in data:
            if ref.get("optional"):
                return None
            what = f"{kind} {self.namespace}/{ref['name']}"
            raise ContainerConfigError(
                f"{what} not found" if data is None else f"key {ref['key']!r} missing in {what}"
            )
        return data[ref["key"]]


def _resource_field(container: dict[str, Any], ref: dict[str, Any]) -> str:
    section, _, resource = ref["resource"].partition(".")
    value = ((container.get("resources") or {}).get(section) or {}).get(resource)
    return str(value) if value is not None else "0"


def container_env(core: client.CoreV1Api, pod: dict[str, Any], container: dict[str, Any]) -> dict[str, str]:
    """`envFrom` then `env` of a container, resolved as a kubelet does (later entries win)."""
    lookup = _Lookup(core, pod["metadata"]["namespace"])
    env: dict[str, str] = {}
    for source in container.get("envFrom") or []:
        prefix = source.get("prefix", "")
        for kind, key in (("secret", "secretRef"), ("configmap", "configMapRef")):
            if key not in source:
                continue
            data = lookup.data(kind, source[key]["name"])
            if data is None and not source[key].get("optional"):
                raise ContainerConfigError(
                    f"{kind} {pod['metadata']['namespace']}/{source[key]['name']} not found"
                )
            env.update({prefix + k: v for k, v in (data or {}).items()})
    for var in container.get("env") or []:
        value_from = var.get("valueFrom")
        value: str | None
        if value_from is None:
            value = expand(var.get("value", ""), env)
        elif "fieldRef" in value_from:
            value = field_value(pod, value_from["fieldRef"]["fieldPath"])
        elif "secretKeyRef" in value_from:
            value = lookup.key("secret", value_from["secretKeyRef"])
        elif "configMapKeyRef" in value_from:
            value = lookup.key("configmap", value_from["configMapKeyRef"])
        elif "resourceFieldRef" in value_from:
            value = _resource_field(container, value_from["resourceFieldRef"])
        else:
            raise ContainerConfigError(f"unsupported valueFrom for {var['name']}: {sorted(value_from)}")
        if value is not None:
            env[var["name"]] = value
    return env


def container_argv(container: dict[str, Any], env: dict[str, str]) -> list[str]:
    """`command + args` with `$(VAR)` expanded. The image (and so its entrypoint) is ignored here."""
    return [expand(part, env) for part in [*(container.get("command") or []), *(container.get("args") or [])]]
