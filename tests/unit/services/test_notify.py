"""Which transitions a Project's webhooks hear about, and the two body formats."""

from __future__ import annotations

from ferry.api import conditions as c
from ferry.api.migration import MigrationStatus, Phase, StatusEvent
from ferry.api.project_notifications import NotificationEvent, NotificationFormat
from ferry.services.notify import Notice, Snapshot, notices, payload


def notice(before: Snapshot, status: MigrationStatus, namespace: str, name: str, at: str) -> Notice | None:
    """The last notice of a reconcile that made one transition (the event a transition posts)."""
    changed = [StatusEvent("Normal", status.phase.value, "")] if status.phase != before.phase else []
    found = notices(before, changed, status, namespace, name, at)
    return found[-1] if found else None


def test_phase_changes_and_a_new_stall_are_noticed_once() -> None:
    status = MigrationStatus()
    before = Snapshot.of(status)
    status.mark_awaiting_approval(c.AWAITING_APPROVAL, "plan 3f2a has 1 destructive operations", 1)
    item = notice(before, status, "team-a", "shop", "2026-11-30T02:00:00Z")
    assert item is not None and item.event == NotificationEvent.AWAITING_APPROVAL
    assert notice(Snapshot.of(status), status, "team-a", "shop", "t") is None  # nothing new

    before = Snapshot.of(status)
    status.mark_stalled(c.POLICY_VIOLATION, "Project team-a: parallelism 4 exceeds 2", 2)
    stalled = notice(before, status, "team-a", "shop", "t")
    assert stalled is not None and stalled.event == NotificationEvent.STALLED
    assert stalled.reason == c.POLICY_VIOLATION


def test_bodies() -> None:
    status = MigrationStatus()
    before = Snapshot.of(status)
    status.mark_succeeded("copied 3,503 rows; validation ok", 1, "2026-11-30T02:00:00Z")
    item = notice(before, status, "team-a", "shop", "2026-11-30T02:00:00Z")
    assert item is not None and item.phase == Phase.SUCCEEDED.value
    assert payload(item, NotificationFormat.SLACK) == {
        "text": "Ferry: Migration team-a/shop Succeeded: copied 3,503 rows; validation ok"
    }
    body = payload(item, NotificationFormat.JSON)
    assert body["event"] == "Succeeded" and body["migration"] == {"namespace": "team-a", "name": "shop"}


def test_every_phase_change_is_a_notice_and_phase_changed_sinks_hear_them_all() -> None:
    from ferry.api.project_notifications import Notification

    status = MigrationStatus()
    before = Snapshot.of(status)
    status.mark_planning(1)
    item = notice(before, status, "team-a", "shop", "t")
    assert item is not None and item.event == NotificationEvent.PHASE_CHANGED
    assert (item.previous_phase, item.phase) == ("Pending", "Planning")
    ref = {"name": "hooks", "key": "url"}
    every = Notification.model_validate({"name": "a", "webhookSecretRef": ref, "events": ["PhaseChanged"]})
    default = Notification.model_validate({"name": "b", "webhookSecretRef": ref})
    assert item.heard_by(every) and not item.heard_by(default)


def test_a_cloudevent_carries_the_spec_attributes_and_a_verifiable_signature() -> None:
    import json

    from ferry.kube.webhook_signing import signature, verify

    status = MigrationStatus()
    before = Snapshot.of(status)
    status.mark_succeeded("copied 3,503 rows; validation ok", 1, "2026-11-30T02:00:00Z")
    item = notice(before, status, "team-a", "shop", "2026-11-30T02:00:00Z")
    assert item is not None
    event = payload(item, NotificationFormat.CLOUDEVENTS)
    assert {k: event[k] for k in ("specversion", "type", "source", "subject", "time")} == {
        "specversion": "1.0",
        "type": "dev.ferry.migration.succeeded",
        "source": "/apis/ferry.dev/v1alpha1/namespaces/team-a/migrations/shop",
        "subject": "team-a/shop",
        "time": "2026-11-30T02:00:00Z",
    }
    assert event["id"] == item.id and event["data"]["previousPhase"] == "Pending"
    body = json.dumps(event).encode()
    assert verify(body, "key", signature(body, "key")) and not verify(
        body + b" ", "key", signature(body, "key")
    )


def test_one_reconcile_through_several_phases_tells_each_change_in_order() -> None:
    status = MigrationStatus()
    before = Snapshot.of(status)
    events = [
        e for e in (status.mark_planning(1), status.mark_running("copying 3 tables", 1)) if e is not None
    ]
    found = notices(before, events, status, "team-a", "shop", "t")
    assert [(n.previous_phase, n.phase, n.event) for n in found] == [
        ("Pending", "Planning", NotificationEvent.PHASE_CHANGED),
        ("Planning", "Running", NotificationEvent.PHASE_CHANGED),
    ]
    assert found[-1].message == "copying 3 tables" and len({n.id for n in found}) == 2
