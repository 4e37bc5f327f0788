"""DatabaseConnection.spec.maxConnections end to end: with maxConnections 2 on both databases and
parallelism 4, PostgreSQL never sees more than 2 Ferry connections to either database while the
Migration plans, copies and validates (pg_stat_activity, sampled throughout), and the copy completes."""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

from kubernetes import client

from e2e.migration_helpers import create_migration, validation_jobs, wait_for_phase, worker_jobs
from ferry.api.kinds import GROUP, VERSION
from harness.databases import Database, PostgresServer
from harness.datasets import add_generated_table
from harness.operator_process import OperatorProcess
from harness.podrunner import PodRunner

CHINOOK_ROWS = 15607
GENERATED = 200_000


def _capped_connection(api: client.ApiClient, namespace: str, name: str, db: Database) -> None:
    client.CoreV1Api(api).create_namespaced_secret(
        namespace,
        {"metadata": {"name": f"{name}-creds"}, "stringData": {"username": db.user, "password": db.password}},
    )
    spec = {"engine": db.engine, "host": db.host, "port": db.port, "database": db.name,
            "credentialsSecretRef": {"name": f"{name}-creds"}, "healthCheck": {"intervalSeconds": 5},
            "maxConnections": 2}  # fmt: skip
    body = {"apiVersion": f"{GROUP}/{VERSION}", "kind": "DatabaseConnection", "metadata": {"name": name},
            "spec": spec}  # fmt: skip
    client.CustomObjectsApi(api).create_namespaced_custom_object(
        GROUP, VERSION, namespace, "databaseconnections", body
    )


class FerryConnections:
    """Samples pg_stat_activity (the server's own view) for Ferry's sessions, per database."""

    def __init__(self, server: PostgresServer, databases: set[str], budget: int) -> None:
        self._server, self._databases, self._budget = server, databases, budget
        self.most: Counter[str] = Counter()
        self.over: list[list[tuple[object, ...]]] = []  # the sessions of each sample over budget
        self.samples = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with self._server.admin() as conn:
            conn.autocommit = True
            while not self._stop.is_set():
                rows = conn.execute(
                    "SELECT datname, pid, backend_start, state, left(query, 80) FROM pg_stat_activity "
                    "WHERE application_name = 'ferry' AND backend_type = 'client backend'"
                ).fetchall()
                per_db = Counter(str(row[0]) for row in rows if row[0] in self._databases)
                for datname, count in per_db.items():
                    self.most[datname] = max(self.most[datname], count)
                    if count > self._budget:
                        self.over.append([row for row in rows if row[0] == datname])
                self.samples += 1
                self._stop.wait(0.02)

    def __enter__(self) -> FerryConnections:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join(timeout=10)


def test_max_connections_two_with_parallelism_four_never_exceeds_two_per_database(
    kube_api: client.ApiClient,
    namespace: str,
    operator: OperatorProcess,
    pod_runner: PodRunner,
    pg_server: PostgresServer,
    pg_source: Database,
    pg_db2: Database,
) -> None:
    add_generated_table(pg_source, GENERATED)
    _capped_connection(kube_api, namespace, "src", pg_source)
    _capped_connection(kube_api, namespace, "dst", pg_db2)
    spec = {
        "source": {"connectionRef": {"name": "src"}},
        "target": {"connectionRef": {"name": "dst"}, "schema": "public"},
        "copy": {"batchSize": 2000, "parallelism": 4},
        "validation": {"rowCount": True, "checksum": True},
    }
    with FerryConnections(pg_server, {pg_source.name, pg_db2.name}, budget=2) as seen:
        create_migration(kube_api, namespace, "capped", spec)
        done = wait_for_phase(kube_api, namespace, "capped", {"Succeeded"}, timeout=300)
    status = done["status"]
    assert status["progress"]["rowsCopied"] == CHINOOK_ROWS + GENERATED
    assert all(t["validation"].startswith("ok") for t in status["tables"]), status["tables"]
    # Ferry did connect (the sampler saw it) and never held more than the budget on either side.
    assert seen.samples > 0 and seen.most[pg_source.name] >= 1 and seen.most[pg_db2.name] >= 1, seen.most
    assert max(seen.most.values()) <= 2, (seen.most, seen.over[:3])
    # 2 connections fit one keyed unit's reader pair: one copy pod, and one validation pod.
    assert [j.spec.parallelism for j in worker_jobs(kube_api, namespace, "capped")] == [1]
    assert [j.spec.parallelism for j in validation_jobs(kube_api, namespace, "capped")] == [1]
