"""The bad day, end to end: the API server or a database goes away while workers copy, and a
Migration is deleted and created again while its Job remains. Each run ends with the checksums
equal, one Job per Migration, and no retry spent on a fault that was not the copy's.

Real control plane, operator process, pod runner and PostgreSQL servers; the servers of the
database outage are this module's own, so stopping one touches no other test.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from kubernetes import client

from e2e.migration_helpers import (
    condition,
    create_connection,
    create_migration,
    get_migration,
    start_migration,
    wait_for_phase,
    worker_jobs,
)
from harness.controlplane import ControlPlane
from harness.databases import LOGICAL, Database, PostgresServer
from harness.datasets import add_generated_table, load_chinook
from harness.operator_process import OperatorProcess
from harness.podrunner import PodRunner

API_OUTAGE_SECONDS = 30.0
DB_OUTAGE_SECONDS = 15.0

pytestmark = pytest.mark.faults  # make test-faults: not in the default run


def _spec(**copy: object) -> dict[str, object]:
    return {
        "source": {"connectionRef": {"name": "src"}},
        "target": {"connectionRef": {"name": "dst"}, "schema": "public"},
        "copy": {"batchSize": 100, "parallelism": 1, **copy},
        "validation": {"rowCount": True, "checksum": True},
    }


def _count(db: Database, table: str) -> int:
    with psycopg.connect(db.libpq_dsn()) as conn:
        row = conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()
        return int(row[0]) if row else -1


def _wait_rows(api: client.ApiClient, namespace: str, name: str, at_least: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = get_migration(api, namespace, name).get("status") or {}
        if sum(w.get("rowsCopied", 0) for w in (status.get("workers") or {}).values()) >= at_least:
            return
        time.sleep(0.2)
    raise AssertionError(f"fewer than {at_least} rows copied after {timeout}s")


def _all_validated(obj: dict[str, Any]) -> None:
    tables = obj["status"]["tables"]
    assert tables and all(t["validation"].startswith("ok") for t in tables), tables


def _one_clean_job(api: client.ApiClient, namespace: str, name: str, runner: PodRunner) -> None:
    """One Job, which failed no pod: the fault spent none of its retries."""
    jobs = worker_jobs(api, namespace, name)
    assert [j.metadata.name for j in jobs] == [f"{name}-copy-1"], [j.metadata.name for j in jobs]
    failed = [runner.logs(r.name, namespace)[-3000:] for r in runner.runs(namespace) if r.exit_code]
    assert not jobs[0].status.failed, f"the Job counts {jobs[0].status.failed} failed pods: {failed}"
    assert get_migration(api, namespace, name)["status"]["attempts"] == 1


# -- the API server --------------------------------------------------------------------------------


def test_an_api_server_outage_while_workers_copy_spends_no_retry(
    kube_api: client.ApiClient,
    control_plane: ControlPlane,
    namespace: str,
    operator: OperatorProcess,
    pod_runner: PodRunner,
    pg_source: Database,
    pg_db2: Database,
) -> None:
    rows = 150_000
    add_generated_table(pg_source, rows)
    start_migration(kube_api, namespace, "apiout", pg_source, pg_db2, _spec())
    _wait_rows(kube_api, namespace, "apiout", 5_000)
    copied_before = _count(pg_db2, "readings")
    with control_plane.apiserver_down(API_OUTAGE_SECONDS):
        time.sleep(API_OUTAGE_SECONDS / 2)
        during = _count(pg_db2, "readings")
    assert during > copied_before, "the copy stopped while the API server was down"

    done = wait_for_phase(kube_api, namespace, "apiout", {"Succeeded"}, timeout=300)
    _all_validated(done)
    assert _count(pg_db2, "readings") == rows
    _one_clean_job(kube_api, namespace, "apiout", pod_runner)
    assert all(run.exit_code == 0 for run in pod_runner.runs(namespace))


# -- a database ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def outage_servers() -> Iterator[dict[str, PostgresServer]]:
    started = {
        side: PostgresServer(Path(tempfile.mkdtemp(prefix=f"ferry-e2e-{side}-")), settings=LOGICAL).start()
        for side in ("source", "target")
    }
    yield started
    for server in started.values():
        server.stop()


@pytest.mark.parametrize("side", ["source", "target"])
def test_a_database_outage_mid_copy_shows_database_unavailable_and_completes(
    kube_api: client.ApiClient,
    namespace: str,
    operator: OperatorProcess,
    pod_runner: PodRunner,
    outage_servers: dict[str, PostgresServer],
    side: str,
) -> None:
    source, target = outage_servers["source"].create_database(), outage_servers["target"].create_database()
    load_chinook(source)
    rows = 150_000
    add_generated_table(source, rows)
    start_migration(kube_api, namespace, "dbout", source, target, _spec())
    _wait_rows(kube_api, namespace, "dbout", 5_000)

    seen: list[dict[str, Any]] = []
    server = outage_servers[side]
    server.go_down()
    try:
        deadline = time.monotonic() + DB_OUTAGE_SECONDS
        while time.monotonic() < deadline:
            seen.append(get_migration(kube_api, namespace, "dbout").get("status") or {})
            time.sleep(0.5)
    finally:
        server.come_back()

    reasons = {(s.get("phase"), condition(s, "Reconciling").get("reason")) for s in seen}
    assert ("Running", "DatabaseUnavailable") in reasons, reasons
    shown = next(s for s in seen if condition(s, "Reconciling").get("reason") == "DatabaseUnavailable")
    assert condition(shown, "Reconciling")["status"] == "True"
    assert "database unavailable" in condition(shown, "Reconciling")["message"]

    done = wait_for_phase(kube_api, namespace, "dbout", {"Succeeded"}, timeout=300)
    _all_validated(done)
    assert _count(target, "readings") == rows
    _one_clean_job(kube_api, namespace, "dbout", pod_runner)


# -- deleted and created again ---------------------------------------------------------------------


def test_a_migration_created_again_under_its_name_does_not_adopt_the_old_job(
    kube_api: client.ApiClient,
    namespace: str,
    operator: OperatorProcess,
    pod_runner: PodRunner,
    pg_source: Database,
    pg_db2: Database,
    pg_server: Any,
) -> None:
    add_generated_table(pg_source, 150_000)
    start_migration(kube_api, namespace, "again", pg_source, pg_db2, _spec())
    _wait_rows(kube_api, namespace, "again", 2_000)
    custom = client.CustomObjectsApi(kube_api)
    old_uid = get_migration(kube_api, namespace, "again")["metadata"]["uid"]
    # Orphan: the old Job (and its running pod) stays, as after `kubectl delete --cascade=orphan`
    # or before the garbage collector gets to it.
    custom.delete_namespaced_custom_object(
        "ferry.dev", "v1alpha1", namespace, "migrations", "again", propagation_policy="Orphan"
    )
    _wait_gone(kube_api, namespace, "again")
    [old_job] = worker_jobs(kube_api, namespace, "again")
    assert old_job.metadata.name == "again-copy-1"

    fresh_target = pg_server.create_database()
    create_connection(kube_api, namespace, "dst2", fresh_target)
    spec = _spec()
    spec["target"] = {"connectionRef": {"name": "dst2"}, "schema": "public"}
    create_migration(kube_api, namespace, "again", spec)
    done = wait_for_phase(kube_api, namespace, "again", {"Succeeded"}, timeout=300)

    new_uid = done["metadata"]["uid"]
    assert new_uid != old_uid
    _all_validated(done)
    assert _count(fresh_target, "readings") == 150_000
    [job] = worker_jobs(kube_api, namespace, "again")
    assert job.metadata.uid != old_job.metadata.uid, "the old Job was adopted"
    assert [ref.uid for ref in job.metadata.owner_references] == [new_uid]


def _wait_gone(api: client.ApiClient, namespace: str, name: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            get_migration(api, namespace, name)
        except client.ApiException as exc:
            if exc.status == 404:
                return
            raise
        time.sleep(0.3)
    raise AssertionError(f"migration {name} still there after {timeout}s")
