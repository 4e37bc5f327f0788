"""Which transitions a Project's webhooks hear about, and the two body formats."""

from __future__ import annotations

from ferry.api import conditions as c
from ferry.api.migration import MigrationStatus, Phase
from ferry.api.project_notifications import NotificationEvent, NotificationFormat
from ferry.services.notify import Snapshot, notice, payload


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
