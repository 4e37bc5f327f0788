"""Migration guard rails end to end: Project policy stalls a Migration; onDelete rolls back."""

from __future__ import annotations

import time

import psycopg
from kubernetes import client

from e2e.migration_helpers import (
    approve_current_plan,
    condition,
    get_migration,
    patch_migration_spec,
    start_migration,
    wait_for_phase,
    worker_jobs,
)
from ferry.api.kinds import GROUP, VERSION
from harness.databases import Database
from harness.kube import hand_to_project, wait_for
from harness.operator_process import OperatorProcess
from harness.podrunner import PodRunner


def _tables(db: Database) -> set[str]:
    with psycopg.connect(db.libpq_dsn()) as conn:
        rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()
    return {r[0] for r in rows}


def test_project_policy_stalls_a_migration_until_the_spec_complies(
    kube_api: client.ApiClient, namespace: str, operator: OperatorProcess, pod_runner: PodRunner,
    pg_source: Database, pg_db2: Database,
) -> None:  # fmt: skip
    hand_to_project(kube_api, namespace, namespace)  # the test's namespace exists before the Project
    client.CustomObjectsApi(kube_api).create_cluster_custom_object(
        GROUP, VERSION, "projects",
        {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Project", "metadata": {"name": namespace},
         "spec": {"namespace": namespace, "policy": {"maxParallelism": 1}}},
    )  # fmt: skip
    start_migration(kube_api, namespace, "capped", pg_source, pg_db2, {
        "source": {"connectionRef": {"name": "src"}}, "target": {"connectionRef": {"name": "dst"}},
        "copy": {"parallelism": 4},
    })  # fmt: skip

    def stalled() -> dict[str, object] | None:
        status = get_migration(kube_api, namespace, "capped").get("status") or {}
        return status if condition(status, "Stalled").get("status") == "True" else None

    status = wait_for(stalled, timeout=90, what="the Migration to stall on the policy")
    assert condition(status, "Stalled")["reason"] == "PolicyViolation"
    assert "parallelism 4 exceeds the project's maxParallelism 1" in condition(status, "Stalled")["message"]
    assert status["phase"] == "Pending" and not worker_jobs(kube_api, namespace, "capped")

    patch_migration_spec(kube_api, namespace, "capped", {"copy": {"parallelism": 1}})
    done = wait_for_phase(kube_api, namespace, "capped", {"Succeeded"}, timeout=180)
    assert not condition(done["status"], "Stalled")
    client.CustomObjectsApi(kube_api).delete_cluster_custom_object(GROUP, VERSION, "projects", namespace)


def test_delete_with_drop_created_removes_only_the_tables_the_migration_created(
    kube_api: client.ApiClient, namespace: str, operator: OperatorProcess, pod_runner: PodRunner,
    pg_source: Database, pg_db2: Database,
) -> None:  # fmt: skip
    with psycopg.connect(pg_db2.libpq_dsn(), autocommit=True) as conn:
        conn.execute("CREATE TABLE keep_me (id int PRIMARY KEY)")
    start_migration(kube_api, namespace, "temp", pg_source, pg_db2, {
        "source": {"connectionRef": {"name": "src"}}, "target": {"connectionRef": {"name": "dst"}},
        "tables": {"include": ["artist", "album"]},
        "rollback": {"onDelete": "drop-created"},
    })  # fmt: skip
    # Deleting the Migration, maybe long after it succeeded, drops tables: destructive, approved first.
    waiting = wait_for_phase(kube_api, namespace, "temp", {"AwaitingApproval"}, timeout=120)["status"]
    drops = [op for op in waiting["plan"]["operations"] if op["kind"] == "rollback_drop_table"]
    assert sorted(op["table"] for op in drops) == ["public.album", "public.artist"], drops
    assert all(op["risk"] == "destructive" for op in drops), drops
    approve_current_plan(kube_api, namespace, "temp")
    done = wait_for_phase(kube_api, namespace, "temp", {"Succeeded"}, timeout=180)
    assert sorted(done["status"]["createdTables"]) == ["public.album", "public.artist"]
    assert {"artist", "album", "keep_me"} <= _tables(pg_db2)

    client.CustomObjectsApi(kube_api).delete_namespaced_custom_object(
        GROUP, VERSION, namespace, "migrations", "temp"
    )
    deadline = time.monotonic() + 60
    while "artist" in _tables(pg_db2):
        assert time.monotonic() < deadline, "the created tables were not dropped on delete"
        time.sleep(0.5)
    assert "keep_me" in _tables(pg_db2) and "album" not in _tables(pg_db2)


def test_a_permanently_failing_copy_fails_honestly_and_rolls_back(
    kube_api: client.ApiClient, namespace: str, operator: OperatorProcess, pod_runner: PodRunner,
    pg_source: Database, pg_db2: Database,
) -> None:  # fmt: skip
    start_migration(kube_api, namespace, "doomed", pg_source, pg_db2, {
        "source": {"connectionRef": {"name": "src"}}, "target": {"connectionRef": {"name": "dst"}},
        "tables": {"include": ["artist"],
                   "overrides": [{"name": "artist", "where": "1 / (artist_id - 100) > -1"}]},
        "job": {"backoffLimit": 0},
        "rollback": {"onFailure": "drop-created"},
    })  # fmt: skip
    done = wait_for_phase(kube_api, namespace, "doomed", {"RolledBack"}, timeout=240)
    status = done["status"]
    assert status["attempts"] == 3
    assert "division by zero" in status["message"]
    assert condition(status, "Stalled")["status"] == "True"
    assert "artist" not in _tables(pg_db2)
