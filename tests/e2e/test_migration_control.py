"""The Migration control path end to end: its Events, rollback on failure, Project defaults,
and data-destroying settings behind the approval gate.

One scenario per test, against the real control plane, operator process, pod runner and
PostgreSQL databases (fixtures in tests/e2e/conftest.py).
"""

from __future__ import annotations

import re

import psycopg
from kubernetes import client

from e2e.migration_helpers import (
    approve_current_plan,
    condition,
    migration_events,
    start_migration,
    wait_for_event,
    wait_for_phase,
    worker_jobs,
)
from ferry.api.kinds import GROUP, VERSION
from harness.databases import Database
from harness.datasets import add_generated_table
from harness.kube import hand_to_project
from harness.operator_process import OperatorProcess
from harness.podrunner import PodRunner

# kopf's lines when a handler raises: the control path must classify errors into status instead.
KOPF_HANDLER_FAILED = re.compile(r"(Handler|Timer|Daemon) '[^']+' failed")


def _spec(**extra: object) -> dict[str, object]:
    return {
        "source": {"connectionRef": {"name": "src"}},
        "target": {"connectionRef": {"name": "dst"}, "schema": "public"},
        **extra,
    }


def _tables(db: Database) -> set[str]:
    with psycopg.connect(db.libpq_dsn()) as conn:
        rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()
    return {r[0] for r in rows}


def _count(db: Database, table: str) -> int:
    with psycopg.connect(db.libpq_dsn()) as conn:
        row = conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()
        return int(row[0]) if row else -1


def _create_chinook_table(db: Database, table: str) -> None:
    """`artist` or `genre` as Chinook defines them, so the schema diff has nothing to change."""
    with psycopg.connect(db.libpq_dsn(), autocommit=True) as conn:
        conn.execute(
            f"CREATE TABLE {table} ({table}_id int NOT NULL, name varchar(120), "
            f"CONSTRAINT {table}_pkey PRIMARY KEY ({table}_id))"
        )


def test_a_successful_migration_posts_its_phases_as_normal_events_and_no_warnings(
    kube_api: client.ApiClient, namespace: str, operator: OperatorProcess, pod_runner: PodRunner,
    pg_source: Database, pg_db2: Database,
) -> None:  # fmt: skip
    spec = _spec(tables={"include": ["artist", "album"]}, copy={"batchSize": 100, "parallelism": 1})
    start_migration(kube_api, namespace, "quiet", pg_source, pg_db2, spec)
    wait_for_phase(kube_api, namespace, "quiet", {"Succeeded"}, timeout=180)
    wait_for_event(kube_api, namespace, "quiet", "Succeeded")

    events = migration_events(kube_api, namespace, "quiet")
    by_reason = {e.reason: e.type for e in events}
    assert {"Running", "Validating", "Succeeded"} <= by_reason.keys(), by_reason
    assert all(by_reason[r] == "Normal" for r in ("Running", "Validating", "Succeeded")), by_reason
    noisy = [(e.type, e.reason, e.message) for e in events if e.type != "Normal"]
    assert not noisy, f"a successful migration posted Warning/Error events: {noisy}"
    assert _count(pg_db2, "album") == 347


def test_a_failed_validation_with_on_failure_drop_created_rolls_back_and_says_so(
    kube_api: client.ApiClient, namespace: str, operator: OperatorProcess, pod_runner: PodRunner,
    pg_source: Database, pg_db2: Database,
) -> None:  # fmt: skip
    # `genre` exists on the target and silently discards every inserted row, so the row-count
    # validation fails deterministically; `artist` does not exist, so this migration creates it.
    _create_chinook_table(pg_db2, "genre")
    with psycopg.connect(pg_db2.libpq_dsn(), autocommit=True) as conn:
        conn.execute(
            "CREATE FUNCTION discard_row() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$"
        )
        conn.execute(
            "CREATE TRIGGER discard BEFORE INSERT ON genre FOR EACH ROW EXECUTE FUNCTION discard_row()"
        )
    spec = _spec(
        tables={"include": ["artist", "genre"]},
        copy={"parallelism": 1},
        validation={"rowCount": True},
        rollback={"onFailure": "drop-created"},
    )
    start_migration(kube_api, namespace, "undone", pg_source, pg_db2, spec)

    done = wait_for_phase(kube_api, namespace, "undone", {"RolledBack"}, timeout=180)["status"]
    assert done["createdTables"] == ["public.artist"]
    assert "genre" in done["message"], done["message"]  # the failure that caused the rollback is named
    event = wait_for_event(kube_api, namespace, "undone", "RolledBack")
    assert "drop-created" in event.message, event.message
    assert "artist" not in _tables(pg_db2), "the table the migration created was not dropped"
    assert "genre" in _tables(pg_db2), "a table the migration did not create was dropped"

    log = operator.log_text()
    assert "Traceback" not in log, log[-3000:]
    assert not KOPF_HANDLER_FAILED.search(log), KOPF_HANDLER_FAILED.search(log)


def test_project_defaults_fill_what_the_migration_omits(
    kube_api: client.ApiClient, namespace: str, operator: OperatorProcess, pod_runner: PodRunner,
    pg_source: Database, pg_db2: Database,
) -> None:  # fmt: skip
    hand_to_project(kube_api, namespace, namespace)  # the test's namespace exists before the Project
    objects = client.CustomObjectsApi(kube_api)
    objects.create_cluster_custom_object(
        GROUP, VERSION, "projects",
        {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Project", "metadata": {"name": namespace},
         "spec": {"namespace": namespace, "defaults": {"batchSize": 700, "parallelism": 1}}},
    )  # fmt: skip
    try:
        add_generated_table(pg_source, 2000)  # keys 1..2000: batches of 700, 700 and 600 rows
        # The target table exists, with a statement trigger that records the rows of each
        # INSERT/COPY: one statement per batch, so the log shows the batch size the worker used.
        with psycopg.connect(pg_db2.libpq_dsn(), autocommit=True) as conn:
            conn.execute(
                "CREATE TABLE readings "
                "(id bigint PRIMARY KEY, taken_at timestamptz NOT NULL, value double precision)"
            )
            conn.execute("CREATE SCHEMA audit")
            conn.execute("CREATE TABLE audit.batches (seq serial PRIMARY KEY, rows bigint NOT NULL)")
            conn.execute(
                "CREATE FUNCTION audit.log_batch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                "INSERT INTO audit.batches (rows) SELECT count(*) FROM new_rows; RETURN NULL; END $$"
            )
            conn.execute(
                "CREATE TRIGGER log_batch AFTER INSERT ON readings REFERENCING NEW TABLE AS new_rows "
                "FOR EACH STATEMENT EXECUTE FUNCTION audit.log_batch()"
            )
        spec = _spec(tables={"include": ["readings"]})  # no copy.batchSize, no copy.parallelism
        start_migration(kube_api, namespace, "defaulted", pg_source, pg_db2, spec)

        done = wait_for_phase(kube_api, namespace, "defaulted", {"Succeeded"}, timeout=180)
        effective = done["status"]["effective"]
        assert effective["batchSize"] == 700 and effective["parallelism"] == 1, effective
        assert {"copy.batchSize", "copy.parallelism"} <= set(effective["fromProject"]), effective
        stored_copy = done["spec"].get("copy", {})
        assert not {"batchSize", "parallelism"} & stored_copy.keys(), f"defaulted: {stored_copy}"
        jobs = worker_jobs(kube_api, namespace, "defaulted")
        assert [j.spec.parallelism for j in jobs] == [1]
        assert _count(pg_db2, "readings") == 2000
        with psycopg.connect(pg_db2.libpq_dsn()) as conn:
            batches = [r[0] for r in conn.execute("SELECT rows FROM audit.batches ORDER BY seq")]
        assert sorted(batches, reverse=True) == [700, 700, 600], f"the worker's batches: {batches}"
    finally:
        objects.delete_cluster_custom_object(GROUP, VERSION, "projects", namespace)


def test_truncate_target_on_a_table_with_rows_waits_for_approval_then_runs(
    kube_api: client.ApiClient, namespace: str, operator: OperatorProcess, pod_runner: PodRunner,
    pg_source: Database, pg_db2: Database,
) -> None:  # fmt: skip
    _create_chinook_table(pg_db2, "artist")
    with psycopg.connect(pg_db2.libpq_dsn(), autocommit=True) as conn:
        conn.execute("INSERT INTO artist VALUES (1, 'stale'), (2, 'stale'), (9001, 'not in the source')")
    spec = _spec(tables={"include": ["artist"]}, copy={"truncateTarget": True, "parallelism": 1})
    start_migration(kube_api, namespace, "emptied", pg_source, pg_db2, spec)

    waiting = wait_for_phase(kube_api, namespace, "emptied", {"AwaitingApproval"}, timeout=120)["status"]
    assert condition(waiting, "Ready")["reason"] == "AwaitingApproval", condition(waiting, "Ready")
    truncates = [op for op in waiting["plan"]["operations"] if op["kind"] == "truncate_table"]
    assert len(truncates) == 1, waiting["plan"]["operations"]
    assert truncates[0]["risk"] == "destructive" and truncates[0]["table"] == "public.artist", truncates
    assert truncates[0]["affectedRows"] == 3, truncates
    assert waiting["plan"]["destructive"] >= 1
    assert not worker_jobs(kube_api, namespace, "emptied"), "a job ran before the approval"
    assert _count(pg_db2, "artist") == 3

    approve_current_plan(kube_api, namespace, "emptied")
    wait_for_phase(kube_api, namespace, "emptied", {"Succeeded"}, timeout=180)
    with psycopg.connect(pg_db2.libpq_dsn()) as conn:
        kept = conn.execute("SELECT artist_id, name FROM artist WHERE artist_id IN (1, 9001)").fetchall()
    names = dict(kept)
    assert _count(pg_db2, "artist") == 275 and names == {1: "AC/DC"}
