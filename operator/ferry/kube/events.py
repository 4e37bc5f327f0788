"""Kubernetes Events about Ferry's objects: what `kubectl describe` shows under "Events".

Events are for transitions a person would want to know about (a connection went down, came
back; a migration failed), not for every reconcile. The builder is pure; `post_event`
sends it and never lets a failure to post break the caller's work.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from ferry.api.base import now_rfc3339
from ferry.observability.logging import get_logger
from ferry.observability.redaction import redact

EventType = Literal["Normal", "Warning"]
COMPONENT = "ferry-operator"
MAX_MESSAGE = 1024  # the apiserver accepts more, but kubectl describe renders one line

log = get_logger(__name__)


def involved_object(body: dict[str, Any] | Any) -> dict[str, Any]:
    """The ObjectReference of a Kubernetes object given as a dict (or a kopf Body)."""
    meta = body["metadata"]
    return {
        "apiVersion": body["apiVersion"],
        "kind": body["kind"],
        "name": meta["name"],
        "namespace": meta.get("namespace"),
        "uid": meta.get("uid"),
        "resourceVersion": meta.get("resourceVersion"),
    }


def build_event(
    obj: dict[str, Any], type_: EventType, reason: str, message: str, *, component: str = COMPONENT
) -> dict[str, Any]:
    """A core/v1 Event about `obj` (an ObjectReference, see `involved_object`)."""
    now = now_rfc3339()
    text = redact(" ".join(message.split()))
    if len(text) > MAX_MESSAGE:
        text = text[: MAX_MESSAGE - 1] + "…"
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": f"{obj['name']}.{uuid.uuid4().hex[:16]}",
            "namespace": obj.get("namespace") or "default",
        },
        "involvedObject": {k: v for k, v in obj.items() if v is not None},
        "type": type_,
        "reason": reason,
        "message": text,
        "source": {"component": component},
        "reportingComponent": component,
        "firstTimestamp": now,
        "lastTimestamp": now,
        "count": 1,
    }


def post_event(
    api: client.ApiClient, obj: dict[str, Any], type_: EventType, reason: str, message: str
) -> bool:
    """Create the Event; returns False (and logs) when the API refuses, instead of raising."""
    event = build_event(obj, type_, reason, message)
    try:
        client.CoreV1Api(api).create_namespaced_event(event["metadata"]["namespace"], event)
    except ApiException as exc:
        log.warning("event not posted", reason=reason, object=obj.get("name"), status=exc.status)
        return False
    return True
