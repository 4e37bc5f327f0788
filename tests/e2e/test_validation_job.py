"""Validation as a Job, end to end: real control plane, operator process, pod runner, PostgreSQL.

The operator compares no rows: it creates one validation Job per run, whose pods compare their
share of the key ranges and store the results on the target, and reads them back into status.
A validation that finds differing ranges names the first; `ferry repair` copies them again.
"""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import psycopg
from kubernetes import client, watch

from e2e.migration_helpers import (
    condition,
    get_migration,
    start_migration,
    validation_jobs,
    wait_for_phase,
    worker_jobs,
)
from ferry.api.kinds import GROUP, VERSION
from ferry.cli.main import main as ferry
from harness.controlplane import ControlPlane
from harness.databases import Database, PostgresServer
from harness.operator_process import OperatorProcess
from harness.podrunner import PodRunner

ROWS = 60_000


class StatusWatch:
    """Every status the apiserver stored for one Migration, in order: a watch started before the
    Migration exists sees each write (each pod's report included), so what it asserts does not
    depend on how fast the pods or the operator's tick are."""

    def __init__(self, api: client.ApiClient, namespace: str, name: str) -> None:
        self.api, self.namespace, self.name = api, namespace, name
        self.seen: list[dict[str, Any]] = []
        self._watch = watch.Watch()
        self._stopped = threading.Event()
        self._version: str | None = None  # the last resourceVersion seen
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> StatusWatch:
        self._thread.start()
        time.sleep(0.5)  # the watch is open before the test creates the Migration
        return self

    def __exit__(self, *_: object) -> None:
        self._stopped.set()
        self._watch.stop()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        while not self._stopped.is_set():
            try:
                self._follow()
            except Exception:  # the API server cut the watch short: open it again where it ended
                self._stopped.wait(0.2)

    def _follow(self) -> None:
        stream = self._watch.stream(
            client.CustomObjectsApi(self.api).list_namespaced_custom_object, GROUP, VERSION,
            self.namespace, "migrations", field_selector=f"metadata.name={self.name}",
            resource_version=self._version, timeout_seconds=60,
        )  # fmt: skip
        for event in stream:
            obj = event["object"]
            if event["type"] == "ERROR":  # 410 Gone: the version is too old; list again
                self._version = None
                return
            self._version = obj["metadata"]["resourceVersion"]
            self.seen.append(obj.get("status") or {})


def _run_report(api: client.ApiClient, namespace: str, migration: dict[str, Any]) -> dict[str, str]:
    """The run report's ConfigMap data (written in the reconcile that ended the run, before the
    status saying so: no waiting)."""
    name = migration["status"]["report"]
    data: dict[str, str] = client.CoreV1Api(api).read_namespaced_config_map(name, namespace).data
    return data


def _pod_reports(seen: list[dict[str, Any]], run: int) -> list[dict[str, Any]]:
    return [w for status in seen for w in (status.get("validationWorkers") or {}).values() if w["run"] == run]


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
    with StatusWatch(kube_api, namespace, "items") as statuses:
        start_migration(kube_api, namespace, "items", pg_source, pg_db2, _spec())
        done = wait_for_phase(kube_api, namespace, "items", {"Succeeded"}, timeout=240)
    status = done["status"]
    # While Validating the pods reported their share as they went: pod 0 compares ranges 1 and
    # 3 of 3, and reports after its first stored range, so a status with 0 < done < share exists.
    reports = _pod_reports(statuses.seen, run=1)
    assert any(0 < r["rangesDone"] < r["rangesShare"] for r in reports), reports
    assert all(r["rangesTotal"] == 3 for r in reports if r["rangesTotal"])
    assert sorted((i, w["state"], w["rangesShare"]) for i, w in status["validationWorkers"].items()) == [
        ("0", "done", 2), ("1", "done", 1)
    ]  # fmt: skip
    # Each pod named itself and reported the sessions it held (ferry_connection_sessions while
    # Validating); its last report, after its share was stored, holds none: it closed them all.
    assert all(r["pod"].startswith("items-validate-1-") and "sessions" in r for r in reports), reports
    held = [(r["sessions"].get("source", 0), r["sessions"].get("target", 0)) for r in reports]
    print(f"sessions (source, target) in the pods' reports: {held}")
    finals = [
        (w["sessions"]["source"], w["sessions"]["target"]) for w in status["validationWorkers"].values()
    ]
    assert finals == [(0, 0), (0, 0)], finals
    # The operator's sum: what `kubectl get mig` shows in its Validated column, from the results.
    validation = status["validation"]
    assert (validation["rangesDone"], validation["rangesTotal"], validation["progress"]) == (3, 3, "3/3")
    assert validation["rowsCompared"] == ROWS
    during = [s["validation"].get("progress") for s in statuses.seen if s.get("phase") == "Validating"
              and (s.get("validation") or {}).get("progress")]  # fmt: skip
    print(f"Validated column while Validating: {during}")
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
    # Each validation pod reported its CPU time; the operator summed it beside the copy's, and the
    # run report keeps the figures the Project's usage adds up.
    pods_cpu = [w["cpuSeconds"] for w in status["validationWorkers"].values()]
    usage = status["usage"]
    print(f"usage: {usage}; validation pods' cpuSeconds: {pods_cpu}")
    assert all(cpu > 0 for cpu in pods_cpu)
    assert usage["validationCpuSeconds"] == round(sum(pods_cpu), 2)
    assert usage["copyCpuSeconds"] == status["progress"]["workerCpuSeconds"] > 0
    assert usage["workerCpuSeconds"] == round(usage["copyCpuSeconds"] + usage["validationCpuSeconds"], 2)
    assert json.loads(_run_report(kube_api, namespace, done)["report.json"])["usage"] == usage


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
    jobs = validation_jobs(kube_api, namespace, "items")
    assert [j.metadata.name for j in jobs] == ["items-validate-1", "items-validate-2"]
    # The repair run compared every range again, not only the two it repaired (docs/migrations.md).
    assert (done["validation"]["rangesDone"], done["validation"]["rangesTotal"]) == (3, 3)
    seconds = {
        j.metadata.name: (j.status.completion_time - j.status.start_time).total_seconds() for j in jobs
    }
    print(f"validation Job wall times: {seconds}")
    # The report of the failure was written again for the repair's end: its outcome, why run 1
    # failed, and both runs' validation pods counted once each.
    report = json.loads(
        _run_report(kube_api, namespace, get_migration(kube_api, namespace, "items"))["report.json"]
    )
    assert report["outcome"]["phase"] == "Succeeded"
    assert [e for e in report["errors"] if e.startswith("validation run 1: ")], report["errors"]
    assert report["usage"] == done["usage"] and done["usage"]["validationCpuSeconds"] > sum(
        w["cpuSeconds"] for w in done["validationWorkers"].values()
    )  # run 1's pods, replaced by run 2's at the same indexes, still count


def test_a_validation_job_whose_pods_fail_names_their_error_in_the_condition(
    kube_api: client.ApiClient,
    namespace: str,
    operator: OperatorProcess,
    pod_runner: PodRunner,
    pg_server: PostgresServer,
    pg_source: Database,
    pg_db2: Database,
) -> None:
    """Not a mismatch: the pods cannot store their results (the target refuses to create the store,
    deterministically, through an event trigger), so the Job fails, and the condition says why."""
    _tables(pg_source, pg_db2, damage=False)
    refuse = (
        "BEGIN IF current_query() ILIKE '%_ferry_validation%' THEN "
        "RAISE EXCEPTION 'ferry test: no validation store here'; END IF; END"
    )
    with pg_server.admin(pg_db2.name) as admin:
        admin.execute(
            f"CREATE FUNCTION refuse_store() RETURNS event_trigger LANGUAGE plpgsql AS $$ {refuse} $$"
        )
        admin.execute("CREATE EVENT TRIGGER refuse_store ON ddl_command_start WHEN TAG IN ('CREATE TABLE') "
                      "EXECUTE FUNCTION refuse_store()")  # fmt: skip
    try:
        spec = {**_spec(), "job": {"backoffLimit": 0}}  # the first failed pod fails the Job
        start_migration(kube_api, namespace, "items", pg_source, pg_db2, spec)
        failed = wait_for_phase(kube_api, namespace, "items", {"Failed"}, timeout=240)["status"]
    finally:  # the Migration's deletion at teardown clears its results: it needs the store
        with pg_server.admin(pg_db2.name) as admin:
            admin.execute("DROP EVENT TRIGGER refuse_store")
    ready = condition(failed, "Ready")
    assert ready["reason"] == "ValidationFailed"
    assert ready["message"].startswith("validation Job items-validate-1 failed: pod"), ready["message"]
    assert "RaiseError: ferry test: no validation store here" in ready["message"], ready["message"]
    assert f"kubectl logs -n {namespace} job/items-validate-1" in ready["message"]
    reported = [w for w in failed["validationWorkers"].values() if w["state"] == "failed"]
    assert reported and all("no validation store here" in w["message"] for w in reported)
    # The run report lists each failed validation pod, in JSON and in Markdown.
    kept = _run_report(kube_api, namespace, get_migration(kube_api, namespace, "items"))
    errors = json.loads(kept["report.json"])["errors"]
    pods = [e for e in errors if e.startswith("validation run 1, pod ")]
    assert pods and all("RaiseError: ferry test: no validation store here" in e for e in pods), errors
    assert all(f"- {e}" in kept["report.md"] for e in pods)
