"""Which transition of a Migration a Project's notifications hear about, and what they are sent.

Pure: the controller takes a snapshot before a reconcile, asks `notice` afterwards, and hands
the result to ferry.kube.notifications for delivery. The text is the Migration's status message,
which is already free of secrets and row values (ferry.observability.redaction).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ferry.api import conditions as c
from ferry.api.migration import MigrationStatus, Phase
from ferry.api.project_notifications import NotificationEvent, NotificationFormat

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


def notice(before: Snapshot, status: MigrationStatus, namespace: str, name: str, at: str) -> Notice | None:
    """The event worth telling about, if this reconcile made one."""
    after = Snapshot.of(status)
    if after.phase != before.phase and after.phase in _PHASE_EVENTS:
        event = _PHASE_EVENTS[after.phase]
    elif after.stalled and not before.stalled:
        event = NotificationEvent.STALLED
    else:
        return None
    ready = status.condition(c.READY)
    return Notice(event, namespace, name, status.phase.value, ready.reason if ready else None,
                  status.message or "", at)  # fmt: skip


def payload(item: Notice, fmt: NotificationFormat) -> dict[str, Any]:
    if fmt == NotificationFormat.SLACK:
        text = f"Ferry: Migration {item.namespace}/{item.name} {item.event}"
        return {"text": f"{text}: {item.message}" if item.message else text}
    return {
        "kind": "FerryMigrationEvent",
        "event": item.event.value,
        "migration": {"namespace": item.namespace, "name": item.name},
        "phase": item.phase,
        "reason": item.reason,
        "message": item.message,
        "at": item.at,
    }
