"""Which run reports a Project's retention (`spec.reports`) lets go.

Reports are the audit record, so the rule is the Project owner's: by age (`retention: 90d`,
counted from when the report was written) and/or by count (`maxCount`, the newest kept). With
neither set nothing is deleted. Pure: ferry.controllers.project_reports lists and deletes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from ferry.api.project_reports import ReportRetention


@dataclass(frozen=True)
class KeptReport:
    name: str  # the ConfigMap
    written_at: datetime


def max_age(retention: str) -> timedelta:
    amount, unit = int(retention[:-1]), retention[-1]
    return timedelta(days=amount) if unit == "d" else timedelta(hours=amount)


def expired(reports: Sequence[KeptReport], rule: ReportRetention, now: datetime) -> list[str]:
    """The names of the reports to delete, oldest first."""
    # Newest first; reports written in the same second are ordered by name, so each pass agrees.
    ordered = sorted(reports, key=lambda r: (r.written_at, r.name), reverse=True)
    doomed: set[str] = set()
    if rule.max_count is not None:
        doomed.update(r.name for r in ordered[rule.max_count :])
    if rule.retention is not None:
        oldest_kept = now - max_age(rule.retention)
        doomed.update(r.name for r in ordered if r.written_at < oldest_kept)
    return [r.name for r in reversed(ordered) if r.name in doomed]
