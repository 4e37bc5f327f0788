"""Which transition of a Migration its notifications (its Project's and its own) hear about, and
what they are sent.

Pure: the controller takes a snapshot before a reconcile, asks `notice` afterwards, and hands
the result to ferry.kube.notification_queue for delivery. The text is the Migration's status message,
which is already free of secrets and row values (ferry.observability.redaction).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from ferry.api import conditions as c
from ferry.api.migration import MigrationStatus, Phase, StatusEvent
from ferry.api.project_notifications import Notification, NotificationEvent, NotificationFormat
from ferry.services.cloudevents import CONTENT_TYPE, cloudevent

_PHASE_EVENTS = {
    Phase.SUCCEEDED: NotificationEvent.SUCCEEDED,
    Phase.FAILED: NotificationEvent.FAILED,
    Phase.ROLLED_BACK: NotificationEvent.ROLLED_BACK,
    Phase.AWAITING_APPROVAL: NotificationEvent.AWAITING_APPROVAL,
    Phase.FOLLOWING: NotificationEvent.FOLLOWING,
}


@dataclass(frozen=True)
class Snapshot:
    phase: Phase
    stalled: bool

    @classmethod
    def of(cls, status: MigrationStatus) -> Snapshot:
        stalled = status.condition(c.STALLED)
        return cls(status.phase, stalled is not None and stalled.status == "True")


@dataclass(frozen=True)
class Notice:
    event: NotificationEvent
    namespace: str
    name: str
    phase: str
    reason: str | None
    message: str
    at: str
    previous_phase: str | None = None  # set when the phase changed
    id: str = field(default_factory=lambda: str(uuid.uuid4()))  # one per notice, for every sink

    def heard_by(self, notification: Notification) -> bool:
        """A sink hears its events, and every phase change when it asks for PhaseChanged."""
        if self.event in notification.events:
            return True
        return self.previous_phase is not None and NotificationEvent.PHASE_CHANGED in notification.events


def notices(
    before: Snapshot,
    events: Sequence[StatusEvent],
    status: MigrationStatus,
    namespace: str,
    name: str,
    at: str,
) -> list[Notice]:
    """What is worth telling about this reconcile, in order: every phase change it made (one
    reconcile may pass through several, e.g. Pending → Planning → Running: the transitions'
    events name them), each named for the phases people act on and PhaseChanged for the others,
    then a new stall."""
    found: list[Notice] = []
    phase = before.phase
    phases = {p.value for p in Phase}
    for event in events:
        if event.reason not in phases or event.reason == phase.value:
            continue
        new = Phase(event.reason)
        kind = _PHASE_EVENTS.get(new, NotificationEvent.PHASE_CHANGED)
        found.append(Notice(kind, namespace, name, new.value, None, event.message, at, phase.value))
        phase = new
    ready = status.condition(c.READY)
    reason = ready.reason if ready else None
    if found:  # the last one stands for the status as it is now
        found[-1] = replace(found[-1], reason=reason, message=status.message or found[-1].message)
    after = Snapshot.of(status)
    if after.stalled and not before.stalled and not any(n.event == NotificationEvent.STALLED for n in found):
        found.append(Notice(NotificationEvent.STALLED, namespace, name, status.phase.value, reason,
                            status.message or "", at))  # fmt: skip
    return found


def payload(item: Notice, fmt: NotificationFormat) -> dict[str, Any]:
    if fmt == NotificationFormat.CLOUDEVENTS:
        data = {"phase": item.phase, "previousPhase": item.previous_phase, "reason": item.reason,
                "message": item.message}  # fmt: skip
        return cloudevent(event_id=item.id, event=item.event.value, namespace=item.namespace,
                          name=item.name, at=item.at, data=data)  # fmt: skip
    if fmt == NotificationFormat.SLACK:
        text = f"Ferry: Migration {item.namespace}/{item.name} {item.event}"
        return {"text": f"{text}: {item.message}" if item.message else text}
    return {
        "kind": "FerryMigrationEvent",
        "event": item.event.value,
        "migration": {"namespace": item.namespace, "name": item.name},
        "phase": item.phase,
        "previousPhase": item.previous_phase,
        "reason": item.reason,
        "message": item.message,
        "at": item.at,
    }


def content_type(fmt: NotificationFormat) -> str:
    return CONTENT_TYPE if fmt == NotificationFormat.CLOUDEVENTS else "application/json"
