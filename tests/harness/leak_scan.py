"""The suite-wide leak scan: no secret value used by a test shows up in anything Ferry writes.

Every e2e test's namespace is scanned before it is deleted: the statuses of Ferry's objects,
the namespace's events, the plan and report ConfigMaps, and the logs of the pods run there; the
operator's log and its /metrics are scanned when the operator stops, for every secret seen so far
in the session. The secrets are the values of the test's own Secrets (passwords, transform keys,
webhook URLs, TLS keys; not user names or CA certificates, which are not secret), in the forms
they could leak in: as is, base64 (standard and URL-safe), and URL-encoded.
"""

from __future__ import annotations

import base64
import json
import re
import urllib.parse
from collections.abc import Iterable, Mapping
from pathlib import Path

from kubernetes import client

from ferry.api.kinds import ALL_KINDS, GROUP, VERSION

# Secret keys whose values are not secret: who connects, and public certificates.
_PUBLIC_KEYS = re.compile(r"^(user(name)?|ca\.crt|tls\.crt|host|port|database)$", re.IGNORECASE)
MIN_LENGTH = 6  # shorter values (a port, "app") would match by chance everywhere


def forms(value: str) -> dict[str, str]:
    """The ways a value could be written, by name."""
    raw = value.encode()
    return {
        "as is": value,
        "base64": base64.b64encode(raw).decode(),
        "base64url": base64.urlsafe_b64encode(raw).decode(),
        "url-encoded": urllib.parse.quote(value, safe=""),
        "url-encoded+": urllib.parse.quote_plus(value),
    }


def secret_values(api: client.ApiClient, namespace: str) -> set[str]:
    """The secret values of the namespace's Secrets (ServiceAccount tokens excluded)."""
    found = set()
    for secret in client.CoreV1Api(api).list_namespaced_secret(namespace).items:
        if secret.type == "kubernetes.io/service-account-token":
            continue
        for key, encoded in (secret.data or {}).items():
            if _PUBLIC_KEYS.match(key):
                continue
            value = base64.b64decode(encoded).decode(errors="replace")
            if len(value) >= MIN_LENGTH:
                found.add(value)
    return found


def namespace_texts(api: client.ApiClient, namespace: str, pod_logs: Path | None) -> dict[str, str]:
    """Everything Ferry wrote about the namespace, by where it was found."""
    texts: dict[str, str] = {}
    custom = client.CustomObjectsApi(api)
    for kind in ALL_KINDS:
        if not kind.namespaced:
            continue
        for obj in custom.list_namespaced_custom_object(GROUP, VERSION, namespace, kind.plural)["items"]:
            texts[f"{kind.kind}/{obj['metadata']['name']} status"] = json.dumps(obj.get("status") or {})
    core = client.CoreV1Api(api)
    for event in core.list_namespaced_event(namespace).items:
        texts[f"event {event.metadata.name}"] = f"{event.reason} {event.message}"
    ferry_configmaps = core.list_namespaced_config_map(
        namespace, label_selector="app.kubernetes.io/managed-by=ferry"
    )
    for configmap in ferry_configmaps.items:
        texts[f"ConfigMap/{configmap.metadata.name}"] = json.dumps(configmap.data or {})
    if pod_logs is not None and pod_logs.is_dir():
        for log in pod_logs.glob(f"{namespace}_*.log"):
            texts[f"pod log {log.name}"] = log.read_text(errors="replace")
    return texts


def leaks(texts: Mapping[str, str], secrets: Iterable[str]) -> list[str]:
    """'<where>: a secret (<form>)' for each place a secret shows up; the value itself is never
    part of the message (it would leak into the test report)."""
    found = []
    for secret in secrets:
        for form_name, form in forms(secret).items():
            for where, text in texts.items():
                if form in text:
                    found.append(f"{where}: a secret value ({form_name}, {len(secret)} characters)")
    return sorted(set(found))
