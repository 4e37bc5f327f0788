"""What a reconcile step tells the controller: events to post and when to look again."""

from __future__ import annotations

from dataclasses import dataclass, field

from ferry.api.migration import StatusEvent


@dataclass
class Outcome:
    """What the controller should do after a reconcile: events to post and when to look again."""

    requeue_after: float | None = None
    events: list[StatusEvent] = field(default_factory=list)

    def emit(self, event: StatusEvent | None) -> None:
        if event is not None:
            self.events.append(event)
