"""Validation as a Job, end to end: real control plane, operator process, pod runner, PostgreSQL.

The operator compares no rows: it creates one validation Job per run, whose pods compare their
share of the key ranges and store the results on the target, and reads them back into status.
A validation that finds differing ranges names the first; `ferry repair` copies them again.
"""

from __future__ import annotations

import time

import psycopg
from kubernetes import client

from e2e.migration_helpers import (
    condition,
    get_migration,
    start_migration,
    validation_jobs,
    wait_for_phase,
    worker_jobs,
)
from ferry.cli.main import main as ferry
from harness.controlplane import ControlPlane
from harness.databases import Database
from harness.operator_process import OperatorProcess
from harness.podrunner import PodRunner

ROWS = 60_000


def _spec(**validation: object) -> dict[str, object]:
    return {
        "source": {"connectionRef": {"name": "src"}},
        "target": {"connectionRef": {"name": "dst"}, "schema": "public"},
        "tables": {"include": ["items"]},  # pg_source holds Chinook too
        "schema": {"mode": "none"},  # the target table is made by the test (with its trigger)
        "copy": {"batchSize": 5000, "parallelism": 2},
        "validation": {"rowCount": True, "checksum": True, **validation},
    }


def _sql(db: Database, *statements: str) -> list[tuple[object, ...]]:
    with psycopg.connect(db.libpq_dsn(), autocommit=True) as conn:
        rows: list[tuple[object, ...]] = []
        for statement in statements:
            cur = conn.execute(statement)
            rows = list(cur.fetchall()) if cur.description else []
        return rows


def _tables(source: Database, target: Database, damage: bool) -> None:
    table = "CREATE TABLE items (id bigint PRIMARY KEY, v text NOT NULL)"
    _sql(source, table, f"INSERT INTO items SELECT g, 'item-' || g FROM generate_series(1, {ROWS}) g")
    _sql(target, table)
    if damage:
        # A target that changes what it is given: rows 25001 and 41234 arrive altered, so the copy
        # "succeeds" and only the checksum can tell.
        body = "BEGIN IF NEW.id IN (25001, 41234) THEN NEW.v := 'tampered'; END IF; RETURN NEW; END"
        trigger = "CREATE TRIGGER tamper BEFORE INSERT ON items FOR EACH ROW EXECUTE FUNCTION tamper()"
        _sql(target, f"CREATE FUNCTION tamper() RETURNS trigger LANGUAGE plpgsql AS $$ {body} $$", trigger)


def test_validation_runs_as_one_indexed_job_and_the_operator_reads_its_results(
    kube_api: client.ApiClient,
    namespace: str,
    operator: OperatorProcess,
    pod_runner: PodRunner,
    pg_source: Database,
    pg_db2: Database,
) -> None:
    _tables(pg_source, pg_db2, damage=False)
    start_migration(kube_api, namespace, "items", pg_source, pg_db2, _spec())
    done = wait_for_phase(kube_api, namespace, "items", {"Succeeded"}, timeout=240)
    status = done["status"]
    assert condition(status, "Ready")["status"] == "True"
    assert status["validation"]["run"] == 1 and status["validation"]["jobName"] == "items-validate-1"
    assert [t["validation"] for t in status["tables"]] == ["ok: rows and checksum match"]
    (job,) = validation_jobs(kube_api, namespace, "items")
    assert job.metadata.name == "items-validate-1" and job.spec.completions == 2  # copy.parallelism
    assert job.spec.template.spec.containers[0].command == ["ferry", "worker", "--validate"]
    assert job.status.succeeded == 2
    assert len(worker_jobs(kube_api, namespace, "items")) == 1  # and one copy Job
    # The pods stored one row per key range on the target, all matching; the operator only read them.
    uid = done["metadata"]["uid"]
    where = f"migration_uid = '{uid}' AND run = 1 AND part >= 0"
    stored = _sql(
        pg_db2,
        f"SELECT count(*), sum(source_rows), min(checksum_match) FROM ferry._ferry_validation WHERE {where}",
    )
    assert stored == [(3, ROWS, 1)]  # 60,000 keys in ranges of 20,000 (part -1: each pod's "share done")


def test_a_damaged_range_is_named_and_ferry_repair_copies_it_again_to_success(
    kube_api: client.ApiClient,
    control_plane: ControlPlane,
    namespace: str,
    operator: OperatorProcess,
    pod_runner: PodRunner,
    pg_source: Database,
    pg_db2: Database,
) -> None:
    _tables(pg_source, pg_db2, damage=True)
    start_migration(kube_api, namespace, "items", pg_source, pg_db2, _spec())
    failed = wait_for_phase(kube_api, namespace, "items", {"Failed"}, timeout=240)["status"]
    assert condition(failed, "Ready")["reason"] == "ValidationFailed"
    assert "first differing range keys (20001) .. (30000)" in failed["message"], failed["message"]
    assert f"kubectl ferry repair mig/items -n {namespace}" in failed["message"]
    assert failed["validation"]["mismatchedRanges"] == ["public.items#2/3", "public.items#3/3"]

    _sql(pg_db2, "DROP TRIGGER tamper ON items")  # what damaged the rows is gone; repair
    kubeconfig = str(control_plane.kubeconfig_path)
    assert ferry(["repair", "mig/items", "-n", namespace, "--kubeconfig", kubeconfig]) == 0

    deadline = time.monotonic() + 60
    while (get_migration(kube_api, namespace, "items").get("status") or {}).get("validation", {}).get(
        "run"
    ) != 2:
        assert time.monotonic() < deadline, "the operator did not start the repair run"
        time.sleep(0.3)
    done = wait_for_phase(kube_api, namespace, "items", {"Succeeded"}, timeout=240)["status"]
    assert done["validation"]["run"] == 2 and done["validation"]["jobName"] == "items-validate-2"
    assert done["validation"]["repairedRanges"] == ["public.items#2/3", "public.items#3/3"]
    assert "repaired 2 key ranges" in done["message"]
    assert _sql(pg_db2, "SELECT count(*) FROM items WHERE v <> 'item-' || id") == [(0,)]
    assert _sql(pg_db2, "SELECT count(*) FROM items") == [(ROWS,)]
    assert [j.metadata.name for j in validation_jobs(kube_api, namespace, "items")] == [
        "items-validate-1", "items-validate-2"
    ]  # fmt: skip
