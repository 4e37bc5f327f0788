"""Migrations end to end: real control plane, operator process, pod runner, real databases."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request

import psycopg
import pytest
from kubernetes import client

from e2e.migration_helpers import (
    approve_current_plan,
    condition,
    create_migration,
    get_migration,
    patch_migration_spec,
    start_migration,
    wait_for_phase,
    worker_jobs,
)
from harness.controlplane import ControlPlane
from harness.databases import Database, MariaDBServer
from harness.datasets import add_generated_table, load_chinook
from harness.operator_process import OperatorProcess
from harness.podrunner import PodRunner

CHINOOK_TABLES = 11
CHINOOK_ROWS = 15607


def _spec(**copy: object) -> dict[str, object]:
    return {
        "source": {"connectionRef": {"name": "src"}},
        "target": {"connectionRef": {"name": "dst"}, "schema": "public"},
        "copy": {"batchSize": 500, "parallelism": 2, **copy},
        "validation": {"rowCount": True, "checksum": True},
    }


def _count(db: Database, table: str) -> int:
    with psycopg.connect(db.libpq_dsn()) as conn:
        row = conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()
        return int(row[0]) if row else -1


def test_pg_to_pg_succeeds_with_validated_counts_and_live_progress(
    kube_api: client.ApiClient,
    namespace: str,
    operator: OperatorProcess,
    pod_runner: PodRunner,
    pg_source: Database,
    pg_db2: Database,
) -> None:
    add_generated_table(pg_source, 300_000)
    start_migration(kube_api, namespace, "chinook", pg_source, pg_db2, _spec(batchSize=100))

    seen: list[dict[str, object]] = []
    done = wait_for_phase(kube_api, namespace, "chinook", {"Succeeded"}, timeout=240, seen=seen)
    status = done["status"]
    assert status["progress"]["rowsCopied"] == CHINOOK_ROWS + 300_000
    assert status["progress"]["percent"] == 100.0
    assert status["progress"]["tablesTotal"] == CHINOOK_TABLES + 1
    assert condition(status, "Ready")["status"] == "True"
    assert all(t["validation"].startswith("ok") for t in status["tables"]), status["tables"]
    intermediate = [
        s["progress"]["rowsCopied"]
        for s in seen
        if s.get("phase") == "Running" and s.get("progress") and 0 < s["progress"]["rowsCopied"] < 315_607
    ]
    trail = [(s.get("phase"), (s.get("progress") or {}).get("rowsCopied")) for s in seen]
    assert intermediate, f"status.progress never showed a value between 0 and the total: {trail}"
    assert _count(pg_db2, "readings") == 300_000 and _count(pg_db2, "track") == 3503
    assert len(worker_jobs(kube_api, namespace, "chinook")) == 1

    # Dashboards: phase changes are Events on the Migration, and the operator exports metrics.
    events = client.CoreV1Api(kube_api).list_namespaced_event(
        namespace, field_selector="involvedObject.kind=Migration,involvedObject.name=chinook"
    )
    assert {"Running", "Validating", "Succeeded"} <= {e.reason for e in events.items}
    metrics = urllib.request.urlopen(f"http://127.0.0.1:{operator.metrics_port}/metrics").read().decode()
    assert f'ferry_migration_phase{{name="chinook",namespace="{namespace}",phase="Succeeded"}} 1.0' in metrics
    assert f'ferry_migration_rows_copied_total{{name="chinook",namespace="{namespace}"}} 315607.0' in metrics


def test_mariadb_to_pg_succeeds(
    kube_api: client.ApiClient,
    namespace: str,
    operator: OperatorProcess,
    pod_runner: PodRunner,
    mariadb_server: MariaDBServer,
    pg_db2: Database,
) -> None:
    source = mariadb_server.create_database()
    load_chinook(source)
    # Mode create: the tables are created without keys, loaded, then completed in Validating.
    start_migration(kube_api, namespace, "maria", source, pg_db2, {**_spec(), "schema": {"mode": "create"}})
    done = wait_for_phase(kube_api, namespace, "maria", {"Succeeded"}, timeout=240)
    assert done["status"]["progress"]["rowsCopied"] == CHINOOK_ROWS
    assert _count(pg_db2, "Invoice") == 412
    with psycopg.connect(pg_db2.libpq_dsn()) as conn:
        kinds = conn.execute(
            "SELECT contype, count(*) FROM pg_constraint WHERE connamespace = 'public'::regnamespace "
            "AND contype IN ('p', 'f') GROUP BY contype ORDER BY contype"
        ).fetchall()
    assert kinds == [("f", 11), ("p", 11)]  # Chinook's 11 primary keys and 11 foreign keys


def test_two_schemas_in_one_migration_keep_their_tables_apart(
    kube_api: client.ApiClient,
    namespace: str,
    operator: OperatorProcess,
    pod_runner: PodRunner,
    pg_source: Database,
    pg_db2: Database,
) -> None:
    """source.schemas [public, ops], ops renamed to ops_v2: a table called track in both schemas
    gets two status entries, two units and two target tables."""
    with psycopg.connect(pg_source.libpq_dsn(), autocommit=True) as conn:
        conn.execute("CREATE SCHEMA ops")
        conn.execute("CREATE TABLE ops.track (id serial PRIMARY KEY, note text)")
        conn.execute("INSERT INTO ops.track (note) SELECT g::text FROM generate_series(1, 250) g")
    spec = {
        **_spec(),
        "source": {"connectionRef": {"name": "src"}, "schemas": ["public", "ops"]},
        "target": {"connectionRef": {"name": "dst"}, "schemaMapping": {"ops": "ops_v2"}},
    }
    start_migration(kube_api, namespace, "two-schemas", pg_source, pg_db2, spec)
    done = wait_for_phase(kube_api, namespace, "two-schemas", {"Succeeded"}, timeout=240)
    status = done["status"]
    assert status["progress"]["rowsCopied"] == CHINOOK_ROWS + 250
    names = [t["name"] for t in status["tables"]]
    assert "public.track" in names and "ops_v2.track" in names and len(names) == len(set(names))
    assert all(t["validation"].startswith("ok") for t in status["tables"]), status["tables"]
    with psycopg.connect(pg_db2.libpq_dsn()) as conn:
        counts = conn.execute(
            "SELECT (SELECT count(*) FROM public.track), (SELECT count(*) FROM ops_v2.track)"
        )
        assert counts.fetchone() == (3503, 250)
        next_id = conn.execute("INSERT INTO ops_v2.track (note) VALUES ('new') RETURNING id").fetchone()
        assert next_id == (251,)


def _cli(plane: ControlPlane, namespace: str, *argv: str) -> subprocess.CompletedProcess[str]:
    """`kubectl ferry ARGV -n NAMESPACE` as a user with the test's admin kubeconfig, 80 columns wide."""
    return subprocess.run(
        [sys.executable, "-m", "ferry.cli.main", *argv, "-n", namespace,
         "--kubeconfig", str(plane.kubeconfig_path)],
        capture_output=True, text=True, timeout=60, env={**os.environ, "COLUMNS": "80"},
    )  # fmt: skip


def _approve(plane: ControlPlane, namespace: str, name: str) -> subprocess.CompletedProcess[str]:
    return _cli(plane, namespace, "approve", f"mig/{name}")


def test_destructive_plan_waits_for_approval_and_a_schema_change_invalidates_it(
    kube_api: client.ApiClient,
    namespace: str,
    operator: OperatorProcess,
    pod_runner: PodRunner,
    control_plane: ControlPlane,
    pg_source: Database,
    pg_db2: Database,
) -> None:
    load_chinook(pg_db2)
    with psycopg.connect(pg_db2.libpq_dsn(), autocommit=True) as conn:
        conn.execute("ALTER TABLE artist ADD COLUMN legacy_note text")  # the diff drops it: destructive
        conn.execute("TRUNCATE artist CASCADE")
    spec = _spec(truncateTarget=True)
    start_migration(kube_api, namespace, "gated", pg_source, pg_db2, spec)

    waiting = wait_for_phase(kube_api, namespace, "gated", {"AwaitingApproval"}, timeout=120)
    first_hash = waiting["status"]["plan"]["hash"]
    assert waiting["status"]["plan"]["destructive"] >= 1
    assert any(
        op["kind"] == "drop_column" and op["risk"] == "destructive"
        for op in waiting["status"]["plan"]["operations"]
    )
    assert "kubectl ferry approve" in condition(waiting["status"], "Ready")["message"]
    # The whole plan is kept beside the Migration, owned by it, for reviewers.
    kept = client.CoreV1Api(kube_api).read_namespaced_config_map("ferry-plan-gated", namespace)
    assert waiting["status"]["plan"]["configMap"] == "ferry-plan-gated"
    assert [o.uid for o in kept.metadata.owner_references] == [waiting["metadata"]["uid"]]
    script = _cli(control_plane, namespace, "plan", "mig/gated", "--sql")
    assert script.returncode == 0, script.stderr
    assert f"plan hash {first_hash}" in script.stdout.splitlines()[0]
    assert "ALTER TABLE public.artist DROP COLUMN legacy_note;" in script.stdout
    shown = _cli(control_plane, namespace, "plan", "mig/gated")
    assert shown.returncode == 0, shown.stderr
    assert " drop_column " in shown.stdout and "refused:" in shown.stdout
    assert max(len(line) for line in shown.stdout.splitlines()) <= 80

    # The target changes after the plan was shown: an approval of the old plan must not run.
    with psycopg.connect(pg_db2.libpq_dsn(), autocommit=True) as conn:
        conn.execute("ALTER TABLE album ADD COLUMN obsolete int")
    patch_migration_spec(kube_api, namespace, "gated", {"approval": {"planHash": first_hash}})
    deadline = time.monotonic() + 60
    while (
        condition(get_migration(kube_api, namespace, "gated")["status"], "Ready").get("reason")
        != "ApprovalStale"
    ):
        assert time.monotonic() < deadline, "a stale approval was not reported"
        time.sleep(0.5)
    stale = get_migration(kube_api, namespace, "gated")["status"]
    assert stale["phase"] == "AwaitingApproval" and stale["plan"]["hash"] != first_hash
    assert not worker_jobs(kube_api, namespace, "gated")

    result = _approve(control_plane, namespace, "gated")
    assert result.returncode == 0, result.stderr
    wait_for_phase(kube_api, namespace, "gated", {"Succeeded"}, timeout=240)
    with psycopg.connect(pg_db2.libpq_dsn()) as conn:
        columns = {
            r[0]
            for r in conn.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name IN ('artist', 'album')"
            )
        }
    assert "legacy_note" not in columns and "obsolete" not in columns
    # The target's own foreign keys were set aside for the load (units run in any order) and are back.
    with psycopg.connect(pg_db2.libpq_dsn()) as conn:
        foreign_keys = conn.execute("SELECT count(*) FROM pg_constraint WHERE contype = 'f'").fetchone()
        deferred = conn.execute('SELECT count(*) FROM ferry."_ferry_deferred_fks"').fetchone()
    assert foreign_keys == (11,) and deferred == (0,)
    events = client.CoreV1Api(kube_api).list_namespaced_event(namespace).items
    assert any(e.reason == "ForeignKeysDeferred" and "11 foreign keys" in e.message for e in events)


def test_a_foreign_key_the_loaded_rows_break_is_named_and_stays_recorded(
    kube_api: client.ApiClient,
    namespace: str,
    operator: OperatorProcess,
    pod_runner: PodRunner,
    pg_source: Database,
    pg_db2: Database,
) -> None:
    load_chinook(pg_db2)  # the target has the tables and their foreign keys
    with psycopg.connect(pg_source.libpq_dsn(), autocommit=True) as conn:
        conn.execute("ALTER TABLE playlist_track DROP CONSTRAINT playlist_track_track_id_fkey")
        conn.execute("INSERT INTO playlist_track VALUES (1, 999999)")  # no such track
    spec = {**_spec(truncateTarget=True), "schema": {"mode": "none"}}
    start_migration(kube_api, namespace, "orphans", pg_source, pg_db2, spec)
    # truncateTarget empties tables that hold rows: destructive, so it runs only once approved.
    waiting = wait_for_phase(kube_api, namespace, "orphans", {"AwaitingApproval"}, timeout=120)["status"]
    assert condition(waiting, "Ready")["reason"] == "AwaitingApproval"
    assert any(op["kind"] == "truncate_table" for op in waiting["plan"]["operations"])
    approve_current_plan(kube_api, namespace, "orphans")

    failed = wait_for_phase(kube_api, namespace, "orphans", {"Failed"}, timeout=240)["status"]
    ready = condition(failed, "Ready")
    assert ready["reason"] == "ValidationFailed"
    assert "playlist_track_track_id_fkey" in ready["message"] and "it stays recorded" in ready["message"]
    with psycopg.connect(pg_db2.libpq_dsn()) as conn:
        recorded = conn.execute('SELECT constraint_name FROM ferry."_ferry_deferred_fks"').fetchall()
        foreign_keys = conn.execute("SELECT count(*) FROM pg_constraint WHERE contype = 'f'").fetchone()
    # The keys before it (in table order) are back; it and the ones after it wait for a retry.
    assert ("playlist_track_track_id_fkey",) in recorded
    assert foreign_keys is not None and foreign_keys[0] + len(recorded) == 11


def _wait_rows(api: client.ApiClient, namespace: str, name: str, at_least: int, timeout: float = 120) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = get_migration(api, namespace, name).get("status") or {}
        rows = sum(w.get("rowsCopied", 0) for w in (status.get("workers") or {}).values())
        if rows >= at_least:
            return rows
        time.sleep(0.2)
    raise AssertionError(f"fewer than {at_least} rows copied after {timeout}s")


def test_killed_worker_pod_resumes_from_checkpoint(
    kube_api: client.ApiClient,
    namespace: str,
    operator: OperatorProcess,
    pod_runner: PodRunner,
    pg_source: Database,
    pg_db2: Database,
) -> None:
    add_generated_table(pg_source, 400_000)
    start_migration(kube_api, namespace, "resume", pg_source, pg_db2, _spec(batchSize=100, parallelism=1))
    _wait_rows(kube_api, namespace, "resume", 20_000)
    victims = [r for r in pod_runner.runs(namespace) if r.exit_code is None]
    assert victims, "no running worker pod to kill"
    pod_runner.kill(victims[0].name, namespace)
    done = wait_for_phase(kube_api, namespace, "resume", {"Succeeded"}, timeout=240)
    assert len(pod_runner.runs(namespace)) >= 2, "the Job did not start a replacement pod"
    assert all(t["validation"].startswith("ok") for t in done["status"]["tables"]), done["status"]["tables"]
    assert _count(pg_db2, "readings") == 400_000


def test_operator_restart_mid_migration_creates_no_second_job(
    kube_api: client.ApiClient,
    namespace: str,
    operator: OperatorProcess,
    pod_runner: PodRunner,
    pg_source: Database,
    pg_db2: Database,
) -> None:
    add_generated_table(pg_source, 300_000)
    start_migration(kube_api, namespace, "restart", pg_source, pg_db2, _spec(batchSize=100))
    _wait_rows(kube_api, namespace, "restart", 10_000)
    operator.kill()
    time.sleep(2)
    operator.start()
    wait_for_phase(kube_api, namespace, "restart", {"Succeeded"}, timeout=240)
    assert [j.metadata.name for j in worker_jobs(kube_api, namespace, "restart")] == ["restart-copy-1"]


def test_suspend_stops_new_batches_and_resume_finishes(
    kube_api: client.ApiClient,
    namespace: str,
    operator: OperatorProcess,
    pod_runner: PodRunner,
    pg_source: Database,
    pg_db2: Database,
) -> None:
    add_generated_table(pg_source, 400_000)
    start_migration(kube_api, namespace, "pause", pg_source, pg_db2, _spec(batchSize=100, parallelism=1))
    _wait_rows(kube_api, namespace, "pause", 10_000)
    patch_migration_spec(kube_api, namespace, "pause", {"suspend": True})
    wait_for_phase(kube_api, namespace, "pause", {"Suspended"}, timeout=30)
    time.sleep(4)  # the worker polls spec.suspend every 2 s; give in-flight batches time to commit
    frozen = _count(pg_db2, "readings")
    time.sleep(4)
    assert _count(pg_db2, "readings") == frozen < 400_000, "batches kept committing while suspended"
    patch_migration_spec(kube_api, namespace, "pause", {"suspend": False})
    wait_for_phase(kube_api, namespace, "pause", {"Succeeded"}, timeout=240)
    assert _count(pg_db2, "readings") == 400_000


def test_worker_token_cannot_read_secrets_or_patch_other_migrations(
    kube_api: client.ApiClient,
    namespace: str,
    operator: OperatorProcess,
    pod_runner: PodRunner,
    control_plane: ControlPlane,
    pg_source: Database,
    pg_db2: Database,
) -> None:
    start_migration(kube_api, namespace, "first", pg_source, pg_db2, _spec())
    wait_for_phase(kube_api, namespace, "first", {"Succeeded"}, timeout=240)
    # A second Migration in the same namespace, which the first one's workers must not touch.
    create_migration(kube_api, namespace, "second", {**_spec(), "suspend": True})
    token = (
        client.CoreV1Api(kube_api)
        .create_namespaced_service_account_token(
            "ferry-worker-first", namespace, {"spec": {"expirationSeconds": 600}}
        )
        .status.token
    )
    from harness.kube import api_client

    with api_client(control_plane.server, control_plane.ca_path, token) as worker_api:
        with pytest.raises(client.ApiException) as denied:
            client.CoreV1Api(worker_api).read_namespaced_secret("src-creds", namespace)
        assert denied.value.status == 403
        with pytest.raises(client.ApiException) as denied_patch:
            patch_migration_spec(worker_api, namespace, "first", {"suspend": True})
        assert denied_patch.value.status == 403
        assert get_migration(worker_api, namespace, "first")["status"]["phase"] == "Succeeded"
        # Its own status it may patch; another Migration's status it may neither read nor patch.
        objects = client.CustomObjectsApi(worker_api)
        objects.patch_namespaced_custom_object_status(
            "ferry.dev", "v1alpha1", namespace, "migrations", "first", {"status": {"workers": {}}}
        )
        with pytest.raises(client.ApiException) as other_status:
            objects.patch_namespaced_custom_object_status(
                "ferry.dev", "v1alpha1", namespace, "migrations", "second", {"status": {"phase": "Succeeded"}}
            )
        assert other_status.value.status == 403
        with pytest.raises(client.ApiException) as other_read:
            get_migration(worker_api, namespace, "second")
        assert other_read.value.status == 403
