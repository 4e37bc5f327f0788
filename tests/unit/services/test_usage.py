"""A Project's usage from run reports: runs, rows, requested worker time, and its price."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from typing import Any

from ferry.api.project import ProjectCost
from ferry.services.usage import cpu_cores, memory_bytes, summarize


def _report(name: str, phase: str, rows: int, hours: int, requests: dict[str, str] | None) -> dict[str, Any]:
    effective: dict[str, Any] = {"parallelism": 2}
    if requests is not None:
        effective["jobResources"] = {"requests": requests}
    return {
        "migration": {"name": name},
        "outcome": {"phase": phase, "startTime": "2026-11-30T00:00:00Z",
                    "completionTime": f"2026-11-30T{hours:02d}:00:00Z"},
        "progress": {"rowsCopied": rows},
        "effective": effective,
    }  # fmt: skip


def test_quantities() -> None:
    assert cpu_cores("500m") == cpu_cores("0.5")
    assert memory_bytes("1Gi") == 2**30 and memory_bytes("512Mi") == 2**29 and memory_bytes("1G") == 10**9


def test_requested_worker_time_and_its_price() -> None:
    reports = [
        _report("orders", "Succeeded", 1_000_000, 3, {"cpu": "500m", "memory": "1Gi"}),  # 2 x 0.5 x 3 h
        _report("audit", "Failed", 10, 1, {"cpu": "1", "memory": "512Mi"}),  # 2 x 1 x 1 h
        _report("legacy", "RolledBack", 5, 1, None),  # no requests recorded: not priced
    ]
    usage = summarize(reports, ProjectCost(per_cpu_hour="0.04", per_memory_gib_hour="0.01", currency="EUR"))
    assert (usage.runs, usage.succeeded, usage.failed, usage.rows_copied) == (3, 1, 2, 1_000_015)
    assert usage.cpu_hours == "5.0000"  # 3 + 2
    assert usage.memory_gib_hours == "7.0000"  # 2 x 1 GiB x 3 h + 2 x 0.5 GiB x 1 h
    assert usage.estimated_cost == "0.27 EUR"  # 5 x 0.04 + 7 x 0.01
    assert usage.unpriced_runs == ["legacy"]
    assert summarize(reports, None).estimated_cost is None


def test_months_split_runs_by_when_they_ended_and_bytes_moved_are_priced() -> None:
    from ferry.services.usage import project_usage

    def run(name: str, ended: str, rows: int, moved: int, cpu: float) -> dict[str, Any]:
        report = _report(name, "Succeeded", rows, 1, {"cpu": "1", "memory": "1Gi"})
        report["outcome"] = {"phase": "Succeeded", "startTime": ended, "completionTime": ended}
        report["progress"] = {"rowsCopied": rows, "bytesCopied": moved, "workerCpuSeconds": cpu}
        return report

    reports = [
        run("dec", "2026-12-02T10:00:00Z", 100, 2**30, 1.5),
        run("nov", "2026-11-30T23:59:59Z", 10, 2**30, 0.25),
        run("jan", "2026-01-15T00:00:00Z", 1, 0, 0.0),  # two months ago: in the totals only
    ]
    cost = ProjectCost(per_cpu_hour="0", per_gib_moved="0.50")
    usage = project_usage(reports, cost, datetime(2026, 12, 5, tzinfo=UTC))
    assert (usage.rows_copied, usage.bytes_copied, usage.worker_cpu_seconds) == (111, 2**31, 1.75)
    assert usage.current_month is not None and usage.previous_month is not None
    assert (usage.current_month.month, usage.current_month.runs, usage.current_month.rows_copied) == (
        "2026-12",
        1,
        100,
    )
    assert (usage.previous_month.month, usage.previous_month.rows_copied) == ("2026-11", 10)
    assert usage.current_month.estimated_cost == "0.50 USD" and usage.estimated_cost == "1.00 USD"
    january = project_usage(reports, cost, datetime(2027, 1, 3, tzinfo=UTC))
    assert january.previous_month is not None and january.previous_month.month == "2026-12"


def test_worker_cpu_counts_copy_validation_and_follower_pods_and_older_reports_their_copy() -> None:
    online = _report("online", "Succeeded", 10, 1, None)
    online["progress"]["workerCpuSeconds"] = 4.0
    online["usage"] = {"workerCpuSeconds": 19.5, "copyCpuSeconds": 4.0, "validationCpuSeconds": 1.5,
                       "followerCpuSeconds": 14.0}  # fmt: skip
    older = _report("older", "Succeeded", 10, 1, None)  # written before validation pods reported CPU
    older["progress"]["workerCpuSeconds"] = 2.25
    usage = summarize([online, older], None)
    assert (usage.worker_cpu_seconds, usage.copy_cpu_seconds) == (21.75, 6.25)
    assert (usage.validation_cpu_seconds, usage.follower_cpu_seconds) == (1.5, 14.0)


def test_the_cli_table_shows_the_cpu_of_each_kind_under_the_total() -> None:
    from rich.console import Console

    from ferry.cli.usage import usage_table
    from ferry.services.usage import project_usage

    def ended(report: dict[str, Any]) -> dict[str, Any]:
        report["usage"] = {"workerCpuSeconds": 3.5, "copyCpuSeconds": 2.0, "validationCpuSeconds": 1.5}
        return report

    usage = project_usage(
        [ended(_report("a", "Succeeded", 1, 1, None))], None, datetime(2026, 11, 30, 5, tzinfo=UTC)
    )
    console = Console(width=120, file=io.StringIO())
    console.print(usage_table("team-a", usage))
    text = console.file.getvalue()  # type: ignore[attr-defined]
    rows = [[cell.strip() for cell in line.split("│")[1:-1]] for line in text.splitlines() if "│" in line]
    assert ["worker CPU-seconds", "3.5", "3.5", "0.0"] in rows
    assert ["copy", "2.0", "2.0", "0.0"] in rows and ["validation", "1.5", "1.5", "0.0"] in rows
    assert ["follower", "0.0", "0.0", "0.0"] in rows
