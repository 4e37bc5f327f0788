"""A Migration's notice as a CloudEvent (structured JSON mode, CloudEvents 1.0). The HMAC
signature any notification body can carry is ferry.kube.webhook_signing's.

Pure: ferry.services.notify decides what to tell, this module how it looks as a CloudEvent, and
ferry.kube.notification_queue delivers it. Attributes follow the spec's required set (id, source,
specversion, type) and the optional ones a receiver filters on (subject, time, datacontenttype):

- `source`: the Migration's API path, `/apis/ferry.dev/v1alpha1/namespaces/NS/migrations/NAME`;
- `type`: `dev.ferry.migration.<event>` in lower case, e.g. `dev.ferry.migration.succeeded`, or
  `dev.ferry.migration.phasechanged` for any other phase change;
- `subject`: `NS/NAME`; `id`: unique per notice (one notice delivered to several sinks keeps its id,
  so a receiver can drop a retried duplicate); `data`: phase, previous phase, reason, message.
"""

from __future__ import annotations

from typing import Any

from ferry.api.kinds import GROUP, MIGRATION, VERSION

SPEC_VERSION = "1.0"
CONTENT_TYPE = "application/cloudevents+json"


def event_type(event: str) -> str:
    return f"dev.ferry.migration.{event.lower()}"


def migration_source(namespace: str, name: str) -> str:
    return f"/apis/{GROUP}/{VERSION}/namespaces/{namespace}/{MIGRATION.plural}/{name}"


def cloudevent(
    *, event_id: str, event: str, namespace: str, name: str, at: str, data: dict[str, Any]
) -> dict[str, Any]:
    return {
        "specversion": SPEC_VERSION,
        "id": event_id,
        "source": migration_source(namespace, name),
        "type": event_type(event),
        "subject": f"{namespace}/{name}",
        "time": at,
        "datacontenttype": "application/json",
        "data": data,
    }
