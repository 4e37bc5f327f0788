"""What a Project's Migrations used, and what that cost, from their run reports.

Run reports outlive their Migrations (ferry.services.run_report), so a Project's usage keeps
counting runs whose Migrations were deleted. Worker time is what the run *requested*, not what
it consumed: parallelism x the worker's CPU and memory requests x the run's wall time (from its
start to its end). That is what a cluster reserves and what most chargeback counts; there is no
metrics pipeline in the loop, and the docs say so. A report with no recorded requests counts its
rows and time, and is named in `unpricedRuns` rather than priced at a guess.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from ferry.api.project import ProjectCost, ProjectUsage

_SUFFIXES = {
    "Ki": 2**10,
    "Mi": 2**20,
    "Gi": 2**30,
    "Ti": 2**40,
    "k": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
}


def cpu_cores(quantity: str) -> Decimal:
    if quantity.endswith("m"):
        return Decimal(quantity[:-1]) / 1000
    return Decimal(quantity)


def memory_bytes(quantity: str) -> Decimal:
    for suffix, factor in sorted(_SUFFIXES.items(), key=lambda item: -len(item[0])):
        if quantity.endswith(suffix):
            return Decimal(quantity[: -len(suffix)]) * factor
    return Decimal(quantity)


def _hours(outcome: dict[str, Any]) -> Decimal:
    start, end = outcome.get("startTime"), outcome.get("completionTime")
    if not start or not end:
        return Decimal(0)
    seconds = (datetime.fromisoformat(end.replace("Z", "+00:00")) -
               datetime.fromisoformat(start.replace("Z", "+00:00"))).total_seconds()  # fmt: skip
    return Decimal(max(0.0, seconds)) / 3600


def summarize(reports: Iterable[dict[str, Any]], cost: ProjectCost | None) -> ProjectUsage:
    runs = succeeded = failed = rows = 0
    cpu_hours = memory_gib_hours = Decimal(0)
    unpriced: list[str] = []
    for report in reports:
        runs += 1
        outcome = report.get("outcome") or {}
        succeeded += outcome.get("phase") == "Succeeded"
        failed += outcome.get("phase") in ("Failed", "RolledBack")
        rows += int((report.get("progress") or {}).get("rowsCopied", 0))
        effective = report.get("effective") or {}
        requests = ((effective.get("jobResources") or {}).get("requests")) or {}
        workers = int(effective.get("parallelism", 1))
        hours = _hours(outcome)
        try:
            cpu_hours += cpu_cores(str(requests["cpu"])) * workers * hours
            memory_gib_hours += memory_bytes(str(requests["memory"])) / 2**30 * workers * hours
        except (KeyError, InvalidOperation, ValueError):
            unpriced.append((report.get("migration") or {}).get("name", "?"))
    usage = ProjectUsage(
        runs=runs, succeeded=succeeded, failed=failed, rows_copied=rows,
        cpu_hours=f"{cpu_hours:.4f}", memory_gib_hours=f"{memory_gib_hours:.4f}",
        unpriced_runs=sorted(set(unpriced))[:50],
    )  # fmt: skip
    if cost is not None:
        total = cpu_hours * Decimal(cost.per_cpu_hour) + memory_gib_hours * Decimal(cost.per_memory_gib_hour)
        usage.estimated_cost = f"{total:.2f} {cost.currency}"
    return usage
