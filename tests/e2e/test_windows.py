"""Maintenance windows end to end: a window that closes mid-copy suspends the Migration, and the
next one resumes it to Succeeded, by itself (real control plane, operator, pod runner, PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest
from kubernetes import client

from e2e.migration_helpers import condition, start_migration, wait_for_phase
from harness.databases import Database
from harness.operator_process import OperatorProcess
from harness.podrunner import PodRunner

pytestmark = pytest.mark.long  # a minute or more of real windows (make test-long)

CHINOOK_ROWS = 15607


def _ready_reason(status: dict[str, Any]) -> str | None:
    reason = condition(status, "Ready").get("reason")
    return str(reason) if reason is not None else None


def test_a_closing_window_suspends_the_copy_and_the_next_window_finishes_it(
    kube_api: client.ApiClient,
    namespace: str,
    operator: OperatorProcess,
    pod_runner: PodRunner,
    pg_source: Database,
    pg_db2: Database,
) -> None:
    # A 30 s window at the start of every minute; 400 rows/s makes Chinook's 15,607 rows a copy
    # of about 40 s, so at least one window closes on it whenever it starts.
    spec = {
        "source": {"connectionRef": {"name": "src"}},
        "target": {"connectionRef": {"name": "dst"}, "schema": "public"},
        "copy": {"batchSize": 200, "parallelism": 1, "throttle": {"rowsPerSecond": 400}},
        "validation": {"rowCount": True, "checksum": True},
        "schedule": {"windows": [{"start": "* * * * *", "duration": "30s"}]},
    }
    start_migration(kube_api, namespace, "windowed", pg_source, pg_db2, spec)
    seen: list[dict[str, Any]] = []
    wait_for_phase(kube_api, namespace, "windowed", {"Running"}, timeout=120, seen=seen)
    suspended = wait_for_phase(kube_api, namespace, "windowed", {"Suspended"}, timeout=120, seen=seen)
    held = suspended["status"]
    assert _ready_reason(held) == "OutsideWindow", held["conditions"]
    assert "resumes at" in condition(held, "Ready")["message"]
    # Suspended mid-copy: some rows are in, not all. Nobody touches the spec from here on.
    assert held["progress"]["rowsCopied"] < CHINOOK_ROWS

    done = wait_for_phase(kube_api, namespace, "windowed", {"Succeeded"}, timeout=300, seen=seen)
    status = done["status"]
    assert status["progress"]["rowsCopied"] == CHINOOK_ROWS
    assert all(t["validation"].startswith("ok") for t in status["tables"]), status["tables"]
    # It ran again after the suspension (the next window), not only before it.
    phases = [s.get("phase") for s in seen]
    first_hold = phases.index("Suspended")
    assert "Running" in phases[first_hold:], phases
    assert {_ready_reason(s) for s in seen if s.get("phase") == "Suspended"} == {"OutsideWindow"}
