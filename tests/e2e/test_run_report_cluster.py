"""The run report in the cluster, Succeeded and Failed, and the commands that read reports.

One scenario on the real control plane and operator: a Migration that succeeds and one that
fails validation each leave a report holding every field (outcome, errors, plan, approvals,
personal data, tables with checksums, schema hashes of both sides), as JSON and Markdown, with
no secret (the namespace's leak scan checks every ConfigMap for the Secrets' values at
teardown, and the test checks the reports itself). `kubectl ferry diff` finds a column added
to the source after the run; `kubectl ferry compliance` lists both runs after one Migration is
deleted; the Project's retention prunes the older report.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from kubernetes import client

from e2e.migration_helpers import create_connection, create_migration, get_migration, wait_for_phase
from ferry.api.kinds import GROUP, VERSION
from ferry.api.project import ProjectSpec
from ferry.cli import compliance, diff, report
from ferry.controllers.project_reports import prune_reports
from ferry.kube.client import load_api_client
from ferry.kube.run_report import list_kept_reports
from harness.controlplane import ControlPlane
from harness.databases import Database, PostgresServer
from harness.kube import hand_to_project, wait_for
from harness.operator_process import OperatorProcess
from harness.podrunner import PodRunner


def _cli(module: Any, plane: ControlPlane, *argv: str) -> int:
    parser = argparse.ArgumentParser(prog="ferry")
    module.register(parser.add_subparsers(required=True))
    args = parser.parse_args([*argv, "--kubeconfig", str(plane.kubeconfig_path)])
    code: int = args.func(args)
    return code


def _report(api: client.ApiClient, namespace: str, name: str) -> dict[str, str]:
    report_name = wait_for(lambda: get_migration(api, namespace, name)["status"].get("report"),
                           timeout=30, what=f"status.report of {name}")  # fmt: skip
    data: dict[str, str] = client.CoreV1Api(api).read_namespaced_config_map(report_name, namespace).data
    return data


def _holds_every_field(kept: dict[str, str], secrets: list[str]) -> dict[str, Any]:
    for text in kept.values():
        assert not any(secret in text for secret in secrets)
    found: dict[str, Any] = json.loads(kept["report.json"])
    for key in ("migration", "outcome", "errors", "plan", "approvals", "effective", "transforms", "tables",
                "personalData", "schemas"):  # fmt: skip
        assert key in found, key
    assert found["outcome"]["startTime"] and found["outcome"]["completionTime"]
    assert len(found["plan"]["hash"]) == 64
    for side in ("source", "target"):
        [snapshot] = found["schemas"][side]
        assert len(snapshot["hash"]) == 64
    assert "schemas.json" in kept and "plan.sql" in kept
    assert kept["report.md"].startswith("# Run report: ")
    return found


def test_reports_of_a_succeeded_and_a_failed_run_and_what_reads_them(
    kube_api: client.ApiClient, namespace: str, operator: OperatorProcess, pod_runner: PodRunner,
    control_plane: ControlPlane, operator_kubeconfig: Path, pg_source: Database, pg_db2: Database,
    pg_server: PostgresServer,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    hand_to_project(kube_api, namespace, namespace)
    client.CustomObjectsApi(kube_api).create_cluster_custom_object(
        GROUP, VERSION, "projects",
        {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Project", "metadata": {"name": namespace},
         "spec": {"namespace": namespace}},
    )  # fmt: skip
    other = pg_server.create_database()
    with psycopg.connect(other.libpq_dsn(), autocommit=True) as conn:  # a row the source lacks
        conn.execute("CREATE TABLE artist (artist_id integer PRIMARY KEY, name varchar(120))")
        conn.execute("INSERT INTO artist VALUES (999999, 'only on the target')")
    for name, db in (("src", pg_source), ("dst", pg_db2), ("dst2", other)):
        create_connection(kube_api, namespace, name, db)
    secrets = [db.password for db in (pg_source, pg_db2, other)]
    create_migration(kube_api, namespace, "good", {
        "source": {"connectionRef": {"name": "src"}}, "target": {"connectionRef": {"name": "dst"}},
        "tables": {"include": ["artist", "album"]}, "validation": {"checksum": True},
    })  # fmt: skip
    create_migration(kube_api, namespace, "bad", {
        "source": {"connectionRef": {"name": "src"}}, "target": {"connectionRef": {"name": "dst2"}},
        "tables": {"include": ["artist"]}, "schema": {"mode": "none"}, "copy": {"onConflict": "skip"},
    })  # fmt: skip
    try:
        wait_for_phase(kube_api, namespace, "good", {"Succeeded"}, timeout=240)
        wait_for_phase(kube_api, namespace, "bad", {"Failed"}, timeout=240)
    except AssertionError:
        print(pod_runner.all_logs()[-6000:])  # the workers' side of it
        raise

    good = _holds_every_field(_report(kube_api, namespace, "good"), secrets)
    assert good["outcome"]["phase"] == "Succeeded" and good["errors"] == []
    assert {t["name"] for t in good["tables"]} == {"artist", "album"}
    assert all(t["checksum"].startswith("sha256:") for t in good["tables"])
    bad = _holds_every_field(_report(kube_api, namespace, "bad"), secrets)
    assert bad["outcome"]["phase"] == "Failed" and bad["outcome"]["reason"] == "ValidationFailed"
    assert bad["errors"] and "artist" in bad["errors"][0]

    assert _cli(report, control_plane, "report", "mig/good", "-n", namespace, "--format", "md") == 0
    assert "| artist | validated |" in capsys.readouterr().out

    # Drift since the plan: none, then a column added on the source.
    assert _cli(diff, control_plane, "diff", "mig/good", "-n", namespace, "--output", "json") == 0
    unchanged = json.loads(capsys.readouterr().out)
    assert unchanged["snapshotsFrom"] == "run report" and unchanged["source"][0]["differences"] == []
    with psycopg.connect(pg_source.libpq_dsn(), autocommit=True) as conn:
        conn.execute("ALTER TABLE artist ADD COLUMN origin_note text")
    assert _cli(diff, control_plane, "diff", "mig/good", "-n", namespace, "--output", "json") == 1
    drifted = json.loads(capsys.readouterr().out)
    assert any("artist.columns.origin_note" in line for line in drifted["source"][0]["differences"])
    # The target's snapshot is the one planned on: it differs by what the run created, which does
    # not count as drift once the run has happened.
    assert any("tables.artist" in line for line in drifted["target"][0]["differences"])

    # Compliance reads the reports: the deleted Migration's run is still listed.
    client.CustomObjectsApi(kube_api).delete_namespaced_custom_object(
        GROUP, VERSION, namespace, "migrations", "bad"
    )
    assert _cli(compliance, control_plane, "compliance", "--project", namespace, "--since", "1d",
                "--output", "json") == 0  # fmt: skip
    listed = {m["migration"]: m for m in json.loads(capsys.readouterr().out)["migrations"]}
    assert listed["good"]["validation"] == "ok (rows and checksums)" and listed["good"]["ddlRisk"] == "safe"
    assert listed["bad"]["phase"] == "Failed" and listed["bad"]["validation"].startswith("failed: 1 of 1")
    assert listed["good"]["approvers"] == [] and listed["good"]["personalData"] == []

    # The Project's retention: keep the newest report only; pruned with the operator's own rights.
    spec = ProjectSpec.model_validate({"namespace": namespace, "reports": {"maxCount": 1}})
    kept_before = sorted(list_kept_reports(kube_api, namespace), key=lambda r: (r[1], r[0]))
    assert len(kept_before) == 2
    with load_api_client(str(operator_kubeconfig)) as operator_api:
        assert prune_reports(operator_api, namespace, spec, datetime.now(UTC)) == [kept_before[0][0]]
    assert [name for name, _ in list_kept_reports(kube_api, namespace)] == [kept_before[1][0]]
    assert "run reports deleted by the project's retention" in capsys.readouterr().out  # its log line

    # Before a run, diff reads the snapshots kept with the plan (here one waiting for approval:
    # truncating the rows "good" copied is destructive).
    create_migration(kube_api, namespace, "waits", {
        "source": {"connectionRef": {"name": "src"}}, "target": {"connectionRef": {"name": "dst"}},
        "tables": {"include": ["album"]}, "copy": {"truncateTarget": True},
    })  # fmt: skip
    wait_for_phase(kube_api, namespace, "waits", {"AwaitingApproval"}, timeout=120)
    assert _cli(diff, control_plane, "diff", "mig/waits", "-n", namespace, "--output", "json") == 0
    waiting = json.loads(capsys.readouterr().out)
    assert waiting["snapshotsFrom"] == "plan ConfigMap ferry-plan-waits" and waiting["approved"] is False
    assert waiting["source"][0]["differences"] == [] and waiting["target"][0]["differences"] == []
    client.CustomObjectsApi(kube_api).delete_cluster_custom_object(GROUP, VERSION, "projects", namespace)
