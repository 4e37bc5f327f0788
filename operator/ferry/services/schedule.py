"""Maintenance windows (spec.schedule.windows): is a Migration allowed to copy or follow now, and
when does that change?

A window opens at each time its cron expression names, in its time zone (croniter; DST is the
zone's), and stays open for its duration. Windows may overlap; the Migration may run while any is
open. Outside all of them the reconciler suspends its Job (reason OutsideWindow) and resumes it at
the next opening, by itself; the copy loses nothing, every committed batch being a checkpoint.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from ferry.api.migration_operations import MaintenanceWindow


class ScheduleError(ValueError):
    """A window that cannot be evaluated (bad cron expression or time zone): names which."""


@dataclass(frozen=True)
class WindowState:
    inside: bool
    until: datetime | None  # inside: when the open window closes; outside: when the next opens


def duration(text: str) -> timedelta:
    match = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", text)
    if not match or not text:
        raise ScheduleError(f"duration {text!r}: use hours, minutes and seconds, e.g. 6h, 1h30m or 45s")
    return timedelta(hours=int(match[1] or 0), minutes=int(match[2] or 0), seconds=int(match[3] or 0))


def _zone(window: MaintenanceWindow) -> ZoneInfo:
    try:
        return ZoneInfo(window.time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ScheduleError(f"time zone {window.time_zone!r} is not an IANA time zone") from None


def _last_and_next_start(window: MaintenanceWindow, now: datetime) -> tuple[datetime, datetime]:
    local = now.astimezone(_zone(window))
    if not croniter.is_valid(window.start):
        raise ScheduleError(f"start {window.start!r} is not a 5-field cron expression")
    previous: datetime = croniter(window.start, local + timedelta(seconds=1)).get_prev(datetime)
    following: datetime = croniter(window.start, local).get_next(datetime)
    return previous, following


def window_state(windows: Sequence[MaintenanceWindow], now: datetime) -> WindowState:
    """No windows: always inside. Raises ScheduleError for a window it cannot evaluate."""
    if not windows:
        return WindowState(True, None)
    closes: list[datetime] = []
    opens: list[datetime] = []
    for window in windows:
        previous, following = _last_and_next_start(window, now)
        end = previous + duration(window.duration)
        if previous <= now < end:
            closes.append(end)
        opens.append(following)
    if closes:
        return WindowState(True, max(closes))
    return WindowState(False, min(opens))


def validate_windows(windows: Sequence[MaintenanceWindow], now: datetime) -> str | None:
    """The first problem with the windows as a message, or None."""
    try:
        window_state(windows, now)
    except ScheduleError as exc:
        return f"spec.schedule.windows: {exc}"
    return None
