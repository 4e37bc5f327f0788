"""Per-connection metrics end to end: while a Migration copies, the operator's /metrics shows the
sessions its worker holds to each DatabaseConnection (what PostgreSQL itself shows, within a report
interval); the source killing those sessions mid-copy (pg_terminate_backend) shows as reconnects of
the source connection only, and the copy still completes; once it ended nothing is held, and
deleting the Migration removes its series."""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Callable

from kubernetes import client
from prometheus_client.parser import text_string_to_metric_families

from e2e.migration_helpers import create_connection, create_migration, wait_for_phase
from ferry.api.kinds import GROUP, VERSION
from harness.databases import Database, PostgresServer
from harness.operator_process import OperatorProcess
from harness.podrunner import PodRunner

CHINOOK_ROWS = 15607
Samples = dict[tuple[str, str, str], float]  # (metric, connection, migration) -> value


def scrape(operator: OperatorProcess, namespace: str) -> Samples:
    with urllib.request.urlopen(f"http://127.0.0.1:{operator.metrics_port}/metrics", timeout=5) as response:
        text = response.read().decode()
    found: Samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name.startswith("ferry_connection_") and sample.labels.get("namespace") == namespace:
                key = (sample.name, sample.labels.get("name", ""), sample.labels.get("migration", ""))
                found[key] = sample.value
    return found


def wait_for_metrics(
    operator: OperatorProcess, namespace: str, ready: Callable[[Samples], bool], timeout: float = 90
) -> Samples:
    deadline = time.monotonic() + timeout
    samples = scrape(operator, namespace)
    while not ready(samples):
        assert time.monotonic() < deadline, samples
        time.sleep(0.5)
        samples = scrape(operator, namespace)
    return samples


def ferry_sessions(server: PostgresServer, database: str, *, kill: bool = False) -> int:
    """Ferry's sessions to `database` as PostgreSQL shows them (killed first, with `kill`)."""
    what = "pg_terminate_backend(pid)" if kill else "*"
    with server.admin() as conn:
        row = conn.execute(
            f"SELECT count({what}) FROM pg_stat_activity WHERE datname = %s "
            "AND application_name = 'ferry' AND backend_type = 'client backend'",
            (database,),
        ).fetchone()
    return int(str(row[0])) if row else 0


def test_sessions_and_reconnects_per_connection_on_the_operator_metrics(
    kube_api: client.ApiClient,
    namespace: str,
    operator: OperatorProcess,
    pod_runner: PodRunner,
    pg_server: PostgresServer,
    pg_source: Database,
    pg_db2: Database,
) -> None:
    create_connection(kube_api, namespace, "src", pg_source)
    create_connection(kube_api, namespace, "dst", pg_db2)
    client.CustomObjectsApi(kube_api).patch_namespaced_custom_object(
        GROUP, VERSION, namespace, "databaseconnections", "src", {"spec": {"maxConnections": 4}}
    )
    spec = {
        "source": {"connectionRef": {"name": "src"}},
        "target": {"connectionRef": {"name": "dst"}, "schema": "public"},
        # One pod, throttled so that the copy runs for about 25 s: long enough to look at it.
        "copy": {"batchSize": 200, "parallelism": 1, "throttle": {"rowsPerSecond": 600}},
        "validation": {"rowCount": True},
    }
    create_migration(kube_api, namespace, "watched", spec)
    wait_for_phase(kube_api, namespace, "watched", {"Running"}, timeout=120)

    def sessions(samples: Samples, connection: str) -> float:
        return samples.get(("ferry_connection_sessions", connection, "watched"), 0.0)

    def reconnects(samples: Samples, connection: str) -> float:
        return samples.get(("ferry_connection_reconnects_total", connection, "watched"), -1.0)

    held = wait_for_metrics(operator, namespace, lambda s: sessions(s, "src") > 0 and sessions(s, "dst") > 0)
    assert held[("ferry_connection_max_connections", "src", "")] == 4
    # Two units at once: each holds the reader and the batch-bounds lookup on the source and one
    # writer on the target; a unit between tables holds fewer for a moment.
    assert 1 <= sessions(held, "src") <= 4 and 1 <= sessions(held, "dst") <= 2, held
    assert 1 <= ferry_sessions(pg_server, pg_source.name) <= 4
    assert (reconnects(held, "src"), reconnects(held, "dst")) == (0, 0)

    killed = ferry_sessions(pg_server, pg_source.name, kill=True)
    assert killed > 0
    after = wait_for_metrics(operator, namespace, lambda s: reconnects(s, "src") >= 1)
    assert reconnects(after, "dst") == 0, after

    wait_for_phase(kube_api, namespace, "watched", {"Succeeded"}, timeout=240)
    done = wait_for_metrics(operator, namespace, lambda s: sessions(s, "src") == 0)
    assert sessions(done, "dst") == 0 and reconnects(done, "src") >= 1, done
    migration = client.CustomObjectsApi(kube_api).get_namespaced_custom_object(
        GROUP, VERSION, namespace, "migrations", "watched"
    )
    assert migration["status"]["progress"]["rowsCopied"] == CHINOOK_ROWS
    assert migration["status"]["workers"]["0"]["sessions"]["sourceReconnects"] >= 1

    client.CustomObjectsApi(kube_api).delete_namespaced_custom_object(
        GROUP, VERSION, namespace, "migrations", "watched"
    )
    gone = wait_for_metrics(operator, namespace, lambda s: not any(key[2] == "watched" for key in s))
    assert ("ferry_connection_max_connections", "src", "") in gone  # the connection's own series stays
