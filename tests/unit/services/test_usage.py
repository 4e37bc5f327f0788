"""A Project's usage from run reports: runs, rows, requested worker time, and its price."""

from __future__ import annotations

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
