"""The follower's line in `ferry run`: state, lag, changes applied and their rate.

On a terminal one live line, redrawn with every report (about once a second); in logs and CI
one printed line about every ten seconds, and one on every change of state.
"""

from __future__ import annotations

import time
from types import TracebackType

from rich.console import Console
from rich.status import Status

from ferry.cdc.progress import FollowState, ReplicationProgress


def _bytes(count: int) -> str:
    for unit in ("B", "KiB", "MiB", "GiB"):
        if count < 1024:
            return f"{count:,.0f} {unit}"
        count //= 1024
    return f"{count:,} TiB"


def describe(progress: ReplicationProgress) -> str:
    lag = "?" if progress.lag_seconds is None else f"{progress.lag_seconds:,.1f} s"
    behind = "" if progress.lag_bytes is None else f" ({_bytes(progress.lag_bytes)} of changes)"
    if progress.changes_applied is None:  # native apply: PostgreSQL counts no rows
        applied = "applied natively by PostgreSQL"
    else:
        applied = f"{progress.changes_applied:,} changes applied ({progress.changes_per_second or 0:,.0f}/s)"
    line = f"{progress.state}: lag {lag}{behind}, {applied}, at {progress.applied_position}"
    if progress.cutover_position:
        line += f", cutover at {progress.cutover_position}"
    return line


class FollowLine:
    def __init__(self, console: Console, live: bool, every_seconds: float = 10.0) -> None:
        self.console = console
        self.live = live
        self.every_seconds = every_seconds
        self.status: Status | None = None
        self.last_state: FollowState | None = None
        self.last_print = 0.0

    def __enter__(self) -> FollowLine:
        if self.live:
            self.status = self.console.status("following the source")
            self.status.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self.status is not None:
            self.status.stop()

    def __call__(self, progress: ReplicationProgress) -> None:
        text = describe(progress)
        if self.status is not None:
            self.status.update(text)
            if progress.state != self.last_state:
                self.console.print(text, highlight=False)
        elif progress.state != self.last_state or time.monotonic() - self.last_print >= self.every_seconds:
            self.console.print(text, highlight=False)
            self.last_print = time.monotonic()
        self.last_state = progress.state
