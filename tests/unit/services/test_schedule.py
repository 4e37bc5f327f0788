"""Maintenance windows: inside or outside at a given moment, and when that changes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ferry.api.migration_operations import MaintenanceWindow
from ferry.services.schedule import ScheduleError, window_state


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


NIGHTLY = MaintenanceWindow(start="0 22 * * *", duration="6h", time_zone="UTC")


def test_no_windows_means_any_time() -> None:
    assert window_state([], _at("2026-11-30T12:00:00")).inside


def test_a_nightly_window_over_midnight() -> None:
    inside = window_state([NIGHTLY], _at("2026-11-30T23:30:00"))
    assert inside.inside and inside.until == _at("2026-12-01T04:00:00")
    early = window_state([NIGHTLY], _at("2026-12-01T03:59:00"))
    assert early.inside
    outside = window_state([NIGHTLY], _at("2026-12-01T04:00:00"))
    assert not outside.inside and outside.until == _at("2026-12-01T22:00:00")


def test_a_window_in_a_time_zone_with_daylight_saving() -> None:
    berlin = MaintenanceWindow(start="0 2 * * 0", duration="2h", time_zone="Europe/Berlin")  # Sundays 02:00
    # 2026-11-29 is a Sunday; Berlin is UTC+1 in winter, so the window is 01:00-03:00 UTC.
    assert window_state([berlin], _at("2026-11-29T01:30:00")).inside
    assert not window_state([berlin], _at("2026-11-29T03:00:00")).inside


def test_overlapping_windows_stay_open_until_the_last_closes() -> None:
    short = MaintenanceWindow(start="0 22 * * *", duration="1h")
    state = window_state([short, NIGHTLY], _at("2026-11-30T22:30:00"))
    assert state.inside and state.until == _at("2026-12-01T04:00:00")


@pytest.mark.parametrize(
    ("window", "message"),
    [
        (MaintenanceWindow(start="0 25 * * *", duration="1h"), "is not a 5-field cron expression"),
        (MaintenanceWindow(start="0 2 * * *", duration="1h", time_zone="Mars/Olympus"), "is not an IANA"),
    ],
)
def test_a_window_that_cannot_be_evaluated_is_named(window: MaintenanceWindow, message: str) -> None:
    with pytest.raises(ScheduleError, match=message):
        window_state([window], _at("2026-11-30T12:00:00"))


def test_a_window_of_seconds_opens_every_minute() -> None:
    """Durations take seconds too (the e2e test runs a 30 s window every minute)."""
    minute = MaintenanceWindow(start="* * * * *", duration="30s")
    state = window_state([minute], _at("2026-11-30T12:00:29"))
    assert state.inside and state.until == _at("2026-11-30T12:00:30")
    closed = window_state([minute], _at("2026-11-30T12:00:30"))
    assert not closed.inside and closed.until == _at("2026-11-30T12:01:00")
