"""What a Project's Migrations used, and what that cost, from their run reports.

Run reports outlive their Migrations (ferry.services.run_report), so a Project's usage keeps
counting runs whose Migrations were deleted. Worker time is what the run *requested*, not what
it consumed: parallelism x the worker's CPU and memory requests x the run's wall time (from its
start to its end). That is what a cluster reserves and what most chargeback counts; there is no
metrics pipeline in the loop, and the docs say so. A report with no recorded requests counts its
rows and time, and is named in `unpricedRuns` rather than priced at a guess. Measured CPU time
(`workerCpuSeconds`) is every worker pod's: copy, validation and follower, also apart.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from ferry.api.project import ProjectCost, ProjectUsage
from ferry.api.project_usage import MonthUsage

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


def cpu_by_kind(report: dict[str, Any]) -> tuple[float, float, float]:
    """(copy, validation, follower) CPU-seconds of one run: its `usage`, or for a report written
    before the pods other than the copy's reported CPU, the copy's (progress) alone."""
    usage = report.get("usage")
    if isinstance(usage, dict):
        return (float(usage.get("copyCpuSeconds", 0.0)), float(usage.get("validationCpuSeconds", 0.0)),
                float(usage.get("followerCpuSeconds", 0.0)))  # fmt: skip
    return float((report.get("progress") or {}).get("workerCpuSeconds", 0.0)), 0.0, 0.0


def summarize(reports: Iterable[dict[str, Any]], cost: ProjectCost | None) -> ProjectUsage:
    runs = succeeded = failed = rows = moved = 0
    copy_cpu = validation_cpu = follower_cpu = 0.0
    cpu_hours = memory_gib_hours = Decimal(0)
    unpriced: list[str] = []
    for report in reports:
        runs += 1
        outcome = report.get("outcome") or {}
        succeeded += outcome.get("phase") == "Succeeded"
        failed += outcome.get("phase") in ("Failed", "RolledBack")
        progress = report.get("progress") or {}
        rows += int(progress.get("rowsCopied", 0))
        moved += int(progress.get("bytesCopied", 0))
        copy, validation, follower = cpu_by_kind(report)
        copy_cpu, validation_cpu, follower_cpu = (
            copy_cpu + copy,
            validation_cpu + validation,
            follower_cpu + follower,
        )
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
        runs=runs, succeeded=succeeded, failed=failed, rows_copied=rows, bytes_copied=moved,
        worker_cpu_seconds=round(copy_cpu + validation_cpu + follower_cpu, 2),
        copy_cpu_seconds=round(copy_cpu, 2), validation_cpu_seconds=round(validation_cpu, 2),
        follower_cpu_seconds=round(follower_cpu, 2), cpu_hours=f"{cpu_hours:.4f}",
        memory_gib_hours=f"{memory_gib_hours:.4f}",
        unpriced_runs=sorted(set(unpriced))[:50],
    )  # fmt: skip
    if cost is not None:
        total = (cpu_hours * Decimal(cost.per_cpu_hour) + memory_gib_hours * Decimal(cost.per_memory_gib_hour)
                 + Decimal(moved) / 2**30 * Decimal(cost.per_gib_moved))  # fmt: skip
        usage.estimated_cost = f"{total:.2f} {cost.currency}"
    return usage


def month_of(report: dict[str, Any]) -> str | None:
    """The month (YYYY-MM, UTC) a run ended in: its completion time, else when it was reported."""
    outcome = report.get("outcome") or {}
    at = outcome.get("completionTime") or report.get("writtenAt")
    if not at:
        return None
    return datetime.fromisoformat(str(at).replace("Z", "+00:00")).astimezone(UTC).strftime("%Y-%m")


def _previous(month: str) -> str:
    year, number = (int(part) for part in month.split("-"))
    return f"{year - 1}-12" if number == 1 else f"{year}-{number - 1:02d}"


def _month(reports: list[dict[str, Any]], month: str, cost: ProjectCost | None) -> MonthUsage:
    total = summarize([r for r in reports if month_of(r) == month], cost)
    return MonthUsage(month=month, runs=total.runs, rows_copied=total.rows_copied,
                      bytes_copied=total.bytes_copied, worker_cpu_seconds=total.worker_cpu_seconds,
                      copy_cpu_seconds=total.copy_cpu_seconds,
                      validation_cpu_seconds=total.validation_cpu_seconds,
                      follower_cpu_seconds=total.follower_cpu_seconds,
                      cpu_hours=total.cpu_hours, estimated_cost=total.estimated_cost)  # fmt: skip


def project_usage(reports: Iterable[dict[str, Any]], cost: ProjectCost | None, now: datetime) -> ProjectUsage:
    """All runs' totals, with the current and the previous calendar month (UTC) apart."""
    listed = list(reports)
    usage = summarize(listed, cost)
    current = now.astimezone(UTC).strftime("%Y-%m")
    usage.current_month = _month(listed, current, cost)
    usage.previous_month = _month(listed, _previous(current), cost)
    return usage
