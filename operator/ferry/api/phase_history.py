"""When a Migration entered each phase (`status.phaseHistory`): the wall time per phase for
usage figures, the run report's start and end of every phase, and a person asking where the
time went. Kept short: the last `MAX_SPANS` entries (a Migration suspended and resumed many
times would otherwise grow its status without bound)."""

from __future__ import annotations

from datetime import UTC, datetime

from pydantic import Field

from ferry.api.base import StatusModel, parse_rfc3339, rfc3339

MAX_SPANS = 32


class PhaseSpan(StatusModel):
    """One stay in a phase; it ends when the next entry starts."""

    phase: str = Field(description="The phase entered.")
    started_at: str = Field(description="When (RFC 3339).")


def entered(history: list[PhaseSpan], phase: str, at: datetime) -> list[PhaseSpan]:
    """The history with `phase` entered at `at`, the oldest entries dropped past MAX_SPANS."""
    return [*history, PhaseSpan(phase=phase, started_at=rfc3339(at))][-MAX_SPANS:]


def _stays(history: list[PhaseSpan], until: datetime | None) -> list[tuple[str, datetime, datetime | None]]:
    if not history:  # a local run (ferry run), or a status written before phases were recorded
        return []
    ends = [parse_rfc3339(after.started_at) for after in history[1:]] + [until]
    return [
        (span.phase, parse_rfc3339(span.started_at), end) for span, end in zip(history, ends, strict=True)
    ]


def spans(history: list[PhaseSpan], until: datetime | None = None) -> list[dict[str, object]]:
    """Each stay with its end and seconds; the last one open (no end) unless `until` is given."""
    return [
        {"phase": phase, "startedAt": rfc3339(start),
         "endedAt": rfc3339(end.astimezone(UTC)) if end else None,
         "seconds": round((end - start).total_seconds()) if end else None}
        for phase, start, end in _stays(history, until)
    ]  # fmt: skip
