"""Deletion on a bad day: a namespace deleted with Migrations in it (one copying, one finished),
and a Migration deleted while its target cannot be reached. Nothing stays stuck on Ferry's
finalizer, no Job or pod is left, and what Ferry could not clean is said in an event."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from kubernetes import client

from e2e.fault_helpers import wait_rows
from e2e.migration_helpers import (
    approve_current_plan,
    create_connection,
    create_migration,
    get_migration,
    migration_events,
    start_migration,
    wait_for_event,
    wait_for_phase,
)
from ferry.api.kinds import GROUP, VERSION
from harness.databases import LOGICAL, Database, PostgresServer
from harness.datasets import add_generated_table
from harness.kube import create_namespace
from harness.operator_process import OperatorProcess
from harness.podrunner import PodRunner

pytestmark = pytest.mark.faults  # make test-faults: not in the default run

GIVE_UP_SECONDS = 40  # the operator's FERRY_DELETE_ROLLBACK_GIVE_UP_SECONDS here (600 by default)


def _spec(**extra: object) -> dict[str, object]:
    return {
        "source": {"connectionRef": {"name": "src"}},
        "target": {"connectionRef": {"name": "dst"}, "schema": "public"},
        "copy": {"batchSize": 200, "parallelism": 1},
        **extra,
    }


def _checkpoint_rows(db: Database, uids: list[str]) -> int:
    with psycopg.connect(db.libpq_dsn()) as conn:
        if conn.execute("SELECT to_regclass('ferry._ferry_checkpoints')").fetchone() == (None,):
            return 0
        row = conn.execute(
            "SELECT count(*) FROM ferry._ferry_checkpoints WHERE migration_uid = ANY(%s)", (uids,)
        ).fetchone()
    return int(row[0]) if row else 0


def test_a_namespace_deleted_with_migrations_in_it_leaves_nothing_behind(
    kube_api: client.ApiClient, operator: OperatorProcess, pod_runner: PodRunner,
    pg_source: Database, pg_db2: Database,
) -> None:  # fmt: skip
    add_generated_table(pg_source, 150_000)
    ns = create_namespace(kube_api)
    start_migration(kube_api, ns, "done", pg_source, pg_db2, _spec(tables={"include": ["artist"]}))
    wait_for_phase(kube_api, ns, "done", {"Succeeded"}, timeout=180)
    create_migration(kube_api, ns, "busy", _spec(tables={"include": ["readings"]}))
    wait_rows(kube_api, ns, "busy", 2_000)
    uids = [get_migration(kube_api, ns, name)["metadata"]["uid"] for name in ("done", "busy")]
    assert _checkpoint_rows(pg_db2, uids[:1]) == 0, "a succeeded Migration kept its checkpoints"
    assert _checkpoint_rows(pg_db2, uids[1:]) == 1

    core = client.CoreV1Api(kube_api)
    started = time.monotonic()
    core.delete_namespace(ns, propagation_policy="Background")
    while True:
        try:
            left = core.read_namespace(ns)
        except client.ApiException as exc:
            assert exc.status == 404
            break
        assert time.monotonic() - started < 300, f"namespace stuck terminating: {left.status.conditions}"
        time.sleep(1)
    gone_after = time.monotonic() - started
    runs = pod_runner.runs(ns)
    assert all(run.finished.wait(30) for run in runs), "a worker process outlived its namespace"
    # The copying Migration's row stays when its connection and Secret went first (the namespace
    # controller deletes everything at once): it names a UID nothing will resume, and says so.
    left_rows = _checkpoint_rows(pg_db2, uids)
    print(f"namespace gone {gone_after:.1f}s after its deletion; checkpoint rows left: {left_rows}")
    assert left_rows <= 1
    assert not client.BatchV1Api(kube_api).list_namespaced_job(ns).items
    assert not core.list_namespaced_pod(ns).items


@pytest.fixture
def far_target() -> Iterator[PostgresServer]:
    server = PostgresServer(Path(tempfile.mkdtemp(prefix="ferry-e2e-far-")), settings=LOGICAL).start()
    yield server
    server.stop()


def test_a_migration_deleted_while_its_target_is_down_waits_then_gives_up_and_says_so(
    kube_api: client.ApiClient, namespace: str, operator: OperatorProcess, pod_runner: PodRunner,
    pg_source: Database, far_target: PostgresServer,
) -> None:  # fmt: skip
    operator.stop()
    operator.extra_env["FERRY_DELETE_ROLLBACK_GIVE_UP_SECONDS"] = str(GIVE_UP_SECONDS)
    operator.start()
    target = far_target.create_database()
    create_connection(kube_api, namespace, "src", pg_source)
    create_connection(kube_api, namespace, "dst", target)
    create_migration(kube_api, namespace, "far", _spec(tables={"include": ["artist", "album"]},
                                                       rollback={"onDelete": "drop-created"}))  # fmt: skip
    wait_for_phase(kube_api, namespace, "far", {"AwaitingApproval"}, timeout=120)
    approve_current_plan(kube_api, namespace, "far")
    wait_for_phase(kube_api, namespace, "far", {"Succeeded"}, timeout=180)

    far_target.go_down()
    try:
        started = time.monotonic()
        custom = client.CustomObjectsApi(kube_api)
        custom.delete_namespaced_custom_object(GROUP, VERSION, namespace, "migrations", "far")
        while True:
            try:
                get_migration(kube_api, namespace, "far")
            except client.ApiException as exc:
                assert exc.status == 404
                break
            assert time.monotonic() - started < GIVE_UP_SECONDS + 120, "deletion never gave up"
            time.sleep(1)
        released = time.monotonic() - started
    finally:
        far_target.come_back()
    assert released >= GIVE_UP_SECONDS, f"deletion gave up after {released:.0f}s, before its bound"
    abandoned = wait_for_event(kube_api, namespace, "far", "RollbackAbandoned")
    assert abandoned.type == "Warning"
    assert "the target keeps what the migration wrote" in abandoned.message, abandoned.message
    # While it waited, a Warning said why and for how long at most (once, on the first try).
    waiting = [e for e in migration_events(kube_api, namespace, "far") if e.reason == "RollbackWaiting"]
    print(f"finalizer released {released:.1f}s after the delete; while waiting: {waiting[0].message}")
    assert [e.type for e in waiting] == ["Warning"], [(e.reason, e.message) for e in waiting]
    assert f"given up after {GIVE_UP_SECONDS}s" in waiting[0].message, waiting[0].message
    with psycopg.connect(target.libpq_dsn()) as conn:  # as the event says: the target kept the tables
        assert conn.execute("SELECT count(*) FROM artist").fetchone() == (275,)
