"""Deliver a Migration's notice to its Project's webhooks (ferry.services.notify decides what).

The webhook URL comes from a Secret of the namespace and is registered for redaction before use:
it carries its own token. Delivery is best effort with a short timeout and two retries on
connection errors and 429/5xx (urllib3's Retry), so a slow receiver delays a reconcile by
seconds at most; what failed is returned (the notification's name and why, never the URL) for
the controller to report as a Warning event.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import urllib3
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from ferry.api.project_notifications import Notification
from ferry.db.credentials import SecretError
from ferry.kube.secrets import KubeSecretSource
from ferry.observability.redaction import register_secret

_HTTP = urllib3.PoolManager(
    retries=urllib3.Retry(total=2, backoff_factor=0.5, status_forcelist=(429, 500, 502, 503, 504),
                          allowed_methods=frozenset({"POST"}), raise_on_status=False),
    timeout=urllib3.Timeout(connect=3.0, read=5.0),
)  # fmt: skip


def deliver(
    api: client.ApiClient,
    namespace: str,
    notifications: Sequence[Notification],
    event: str,
    bodies: dict[str, dict[str, Any]],
) -> list[str]:
    """POST `bodies[notification.name]` to each notification that listens to `event`; returns
    one line per failure."""
    secrets = KubeSecretSource(client.CoreV1Api(api), namespace)
    failures = []
    for notification in notifications:
        if event not in notification.events:
            continue
        ref = notification.webhook_secret_ref
        try:
            url = secrets.get(ref.name, ref.key)
        except (SecretError, ApiException) as exc:
            failures.append(f"{notification.name}: webhook Secret {ref.name}/{ref.key}: {type(exc).__name__}")
            continue
        register_secret(url)
        try:
            response = _HTTP.request("POST", url, body=json.dumps(bodies[notification.name]).encode(),
                                     headers={"Content-Type": "application/json"})  # fmt: skip
        except urllib3.exceptions.HTTPError as exc:
            failures.append(f"{notification.name}: {type(exc).__name__}")
            continue
        if not 200 <= response.status < 300:
            failures.append(f"{notification.name}: the webhook answered HTTP {response.status}")
    return failures
