"""A Project's usage end to end: two Migrations of the Project copy for real; the Project's
status.usage (all runs and the current month) equals the sum of its Migrations' own figures,
and `kubectl ferry usage --project NAME` prints it."""

from __future__ import annotations

import subprocess
import sys
import uuid
from typing import Any

from kubernetes import client

from e2e.migration_helpers import create_connection, create_migration, wait_for_phase
from ferry.api.kinds import GROUP, VERSION
from harness.controlplane import ControlPlane
from harness.databases import Database, PostgresServer
from harness.kube import hand_to_project, wait_for
from harness.operator_process import OperatorProcess
from harness.podrunner import PodRunner

FIGURES = ("rowsCopied", "bytesCopied", "workerCpuSeconds", "copyCpuSeconds", "validationCpuSeconds")


def _usage(api: client.ApiClient, project: str, runs: int) -> dict[str, Any] | None:
    obj = client.CustomObjectsApi(api).get_cluster_custom_object(GROUP, VERSION, "projects", project)
    usage = (obj.get("status") or {}).get("usage") or {}
    return usage if usage.get("runs") == runs else None


def _spec(target: str) -> dict[str, Any]:
    return {
        "source": {"connectionRef": {"name": "src"}},
        "target": {"connectionRef": {"name": target}, "schema": "public"},
        "copy": {"batchSize": 1000, "parallelism": 2},
    }


def test_project_usage_is_the_sum_of_its_migrations_and_the_cli_prints_it(
    kube_api: client.ApiClient,
    control_plane: ControlPlane,
    namespace: str,
    operator: OperatorProcess,
    pod_runner: PodRunner,
    pg_server: PostgresServer,
    pg_source: Database,
    pg_db2: Database,
) -> None:
    project = f"usage-{uuid.uuid4().hex[:6]}"
    hand_to_project(kube_api, namespace, project)
    client.CustomObjectsApi(kube_api).create_cluster_custom_object(GROUP, VERSION, "projects", {
        "apiVersion": f"{GROUP}/{VERSION}", "kind": "Project", "metadata": {"name": project},
        "spec": {"namespace": namespace, "cost": {"perCpuHour": "0.04", "perGibMoved": "0.02"}},
    })  # fmt: skip
    try:
        create_connection(kube_api, namespace, "src", pg_source)
        create_connection(kube_api, namespace, "dst-a", pg_db2)
        create_connection(kube_api, namespace, "dst-b", pg_server.create_database())
        create_migration(kube_api, namespace, "first", _spec("dst-a"))
        create_migration(kube_api, namespace, "second", _spec("dst-b"))
        statuses = [
            wait_for_phase(kube_api, namespace, name, {"Succeeded"}, timeout=240)["status"]
            for name in ("first", "second")
        ]
        # A Migration's own figures: the copy's in progress, every kind of pod's CPU in usage.
        progress = [{**s["progress"], **s["usage"]} for s in statuses]
        usage = wait_for(
            lambda: _usage(kube_api, project, 2), timeout=90, what="the Project's usage of 2 runs"
        )
        assert usage is not None
        month = usage["currentMonth"]
        for figure in FIGURES:
            expected = sum(p[figure] for p in progress)
            assert abs(usage[figure] - expected) < 0.02, (figure, usage, progress)
            assert abs(month[figure] - expected) < 0.02, (figure, month, progress)
        assert usage["bytesCopied"] > 0 and usage["workerCpuSeconds"] > 0
        # The copy pods' and the validation pods' CPU apart (rowCount validation runs as a Job).
        assert usage["copyCpuSeconds"] > 0 and usage["validationCpuSeconds"] > 0
        assert usage["followerCpuSeconds"] == 0  # offline Migrations run no follower
        print(f"usage: {usage}")
        assert month["runs"] == 2 and usage["previousMonth"]["runs"] == 0
        assert usage["estimatedCost"].endswith(" USD")

        printed = subprocess.run(
            [sys.executable, "-m", "ferry.cli.main", "usage", "--project", project,
             "--kubeconfig", str(control_plane.kubeconfig_path)],
            capture_output=True, text=True, check=True, timeout=60,
        ).stdout  # fmt: skip
        assert f"Project {project}: usage" in printed and f"{usage['rowsCopied']:,}" in printed
    finally:
        client.CustomObjectsApi(kube_api).delete_cluster_custom_object(GROUP, VERSION, "projects", project)
