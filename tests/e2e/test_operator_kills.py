"""The operator killed (SIGKILL: no cleanup, as a node loss or an OOM kill does) in every phase:
Planning, between the copy Job's creation and the status write that records it, between an
online Migration's capture (a PostgreSQL slot, a MariaDB binlog position) and the status write
that records Running, Validating, RollingBack, and during a delete-time rollback. Every run
converges: the copy is exact, one copy Job ever ran per attempt (never two at once), and a
rollback is done once and recorded.

Random points come from a seeded random source (`fault_rng`: the seed is printed; replay with
FERRY_FAULT_SEED=<seed>). The windows between an action and the status write that records it
are too narrow for timing, so there the operator kills itself at a named test-only crash point
(FERRY_TEST_CRASH_AT, ferry.observability.crashpoint), and is then killed again at a random
moment of its recovery.
"""

from __future__ import annotations

import time

import psycopg
import pytest
from kubernetes import client

from e2e.fault_helpers import (
    ActiveJobWatch,
    assert_same_rows,
    copy_jobs,
    fault_rng,
    wait_phase_seen,
)
from e2e.followed_sources import (
    ENGINES,
    READINGS,
    FollowedSource,
    followed_source,
    recorded_start,
    wait_same_rows,
)
from e2e.migration_helpers import (
    approve_current_plan,
    create_connection,
    create_migration,
    get_migration,
    migration_events,
    start_migration,
    wait_for_event,
    wait_for_phase,
    worker_jobs,
)
from ferry.api.conditions import CAPTURE_STARTED
from ferry.api.kinds import GROUP, VERSION
from ferry.kube.worker_job import PLAN_HASH_ANNOTATION
from ferry.observability.crashpoint import CRASH_AT_ENV
from harness.databases import Database
from harness.datasets import add_generated_table
from harness.operator_process import OperatorProcess
from harness.podrunner import PodRunner

pytestmark = pytest.mark.faults  # make test-faults: not in the default run

COPIED = {"readings": "id", "artist": "artist_id", "album": "album_id"}


def _spec(**extra: object) -> dict[str, object]:
    return {
        "source": {"connectionRef": {"name": "src"}},
        "target": {"connectionRef": {"name": "dst"}, "schema": "public"},
        "tables": {"include": ["readings", "artist", "album"]},
        "copy": {"batchSize": 1000, "parallelism": 2},
        "validation": {"rowCount": True, "checksum": True},
        **extra,
    }


def _restart(operator: OperatorProcess, crash_at: str | None = None) -> None:
    """SIGKILL the operator (if it still runs) and start it again, set to kill itself at
    `crash_at` (a ferry.observability.crashpoint point) or not at all."""
    operator.kill()
    operator.extra_env.pop(CRASH_AT_ENV, None)
    if crash_at:
        operator.extra_env[CRASH_AT_ENV] = crash_at
    operator.start()


def _wait_crashed(operator: OperatorProcess, point: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while operator.running:
        assert time.monotonic() < deadline, f"the operator never reached crash point {point}"
        time.sleep(0.1)
    assert f"test crash point {point!r} reached" in operator.log_text()


def _phase(api: client.ApiClient, namespace: str, name: str) -> str:
    return str((get_migration(api, namespace, name).get("status") or {}).get("phase", ""))


def _kill_later(operator: OperatorProcess, api: client.ApiClient, ns: str, name: str, delay: float) -> str:
    """Sleep `delay`, then SIGKILL and restart the operator; returns the phase it was killed in."""
    time.sleep(delay)
    phase = _phase(api, ns, name)
    _restart(operator)
    print(f"operator killed after {delay:.2f}s, in phase {phase or '(none)'}")
    return phase


def _converged(api: client.ApiClient, ns: str, name: str, source: Database, target: Database) -> None:
    done = wait_for_phase(api, ns, name, {"Succeeded"}, timeout=300)
    tables = done["status"]["tables"]
    assert tables and all(t["validation"].startswith("ok") for t in tables), tables
    assert [j.metadata.name for j in copy_jobs(api, ns, name)] == [f"{name}-copy-1"]
    assert done["status"]["attempts"] == 1
    assert_same_rows(source, target, COPIED)


def test_the_operator_killed_at_random_points_from_planning_on_converges(
    kube_api: client.ApiClient, namespace: str, operator: OperatorProcess, pod_runner: PodRunner,
    pg_source: Database, pg_db2: Database,
) -> None:  # fmt: skip
    rng = fault_rng("planning-kills")
    add_generated_table(pg_source, 60_000)
    with ActiveJobWatch(kube_api, namespace) as jobs:
        start_migration(kube_api, namespace, "plan", pg_source, pg_db2, _spec())
        # Once while it plans (reflecting both schemas), once while the copy starts or runs.
        wait_phase_seen(kube_api, namespace, "plan", {"Planning"})
        killed = [_kill_later(operator, kube_api, namespace, "plan", rng.uniform(0.0, 0.5))]
        wait_phase_seen(kube_api, namespace, "plan", {"Running"})
        killed.append(_kill_later(operator, kube_api, namespace, "plan", rng.uniform(0.0, 2.0)))
        _converged(kube_api, namespace, "plan", pg_source, pg_db2)
    jobs.assert_never_two()
    print(f"phases at the kills: {killed}")


def test_the_operator_killed_between_creating_the_job_and_recording_it_adopts_that_job(
    kube_api: client.ApiClient, namespace: str, operator: OperatorProcess, pod_runner: PodRunner,
    pg_source: Database, pg_db2: Database,
) -> None:  # fmt: skip
    rng = fault_rng("job-created-kill")
    add_generated_table(pg_source, 60_000)
    _restart(operator, crash_at="job-created")
    with ActiveJobWatch(kube_api, namespace) as jobs:
        start_migration(kube_api, namespace, "adopt", pg_source, pg_db2, _spec())
        _wait_crashed(operator, "job-created")
        # Running (with the plan and attempt of the Job) was recorded before the Job was created.
        status = get_migration(kube_api, namespace, "adopt").get("status") or {}
        assert status.get("phase") == "Running" and not status.get("jobName"), status
        [job] = copy_jobs(kube_api, namespace, "adopt")
        assert job.metadata.name == "adopt-copy-1"
        assert job.spec.template.metadata.annotations[PLAN_HASH_ANNOTATION] == status["plan"]["hash"]
        assert status["createdTables"] == ["public.album", "public.artist", "public.readings"]
        _restart(operator)
        _kill_later(operator, kube_api, namespace, "adopt", rng.uniform(0.5, 5.0))  # somewhere in recovery
        _converged(kube_api, namespace, "adopt", pg_source, pg_db2)
    jobs.assert_never_two()


def test_the_operator_killed_while_validating_validates_again_and_succeeds(
    kube_api: client.ApiClient, namespace: str, operator: OperatorProcess, pod_runner: PodRunner,
    pg_source: Database, pg_db2: Database,
) -> None:  # fmt: skip
    rng = fault_rng("validating-kill")
    add_generated_table(pg_source, 300_000)  # a checksum of seconds, so a random kill lands in it
    with ActiveJobWatch(kube_api, namespace) as jobs:
        start_migration(kube_api, namespace, "check", pg_source, pg_db2, _spec())
        seen = wait_phase_seen(kube_api, namespace, "check", {"Validating"}, timeout=300)
        assert seen == "Validating", seen
        killed = _kill_later(operator, kube_api, namespace, "check", rng.uniform(0.0, 2.0))
        _converged(kube_api, namespace, "check", pg_source, pg_db2)
    jobs.assert_never_two()
    print(f"killed in phase {killed}")


@pytest.mark.parametrize("engine", ENGINES)
def test_the_operator_killed_between_opening_the_capture_and_recording_running_follows_one_capture(
    request: pytest.FixtureRequest, engine: str,
    kube_api: client.ApiClient, namespace: str, operator: OperatorProcess, pod_runner: PodRunner,
    pg_db2: Database,
) -> None:  # fmt: skip
    """Online: the capture is open (PostgreSQL: its slot; MariaDB: a binlog position recorded on
    the target, nothing on the server), nothing in status says Running or where it started. The
    restart plans again and opens it again, which keeps what exists (the slot's name derives from
    the Migration's UID; the start recorded first stays the start), so the follow starts where
    the capture first opened: changes made while the operator was down reach the target once,
    one copy Job runs, and deleting the Migration leaves nothing behind."""
    rng = fault_rng(f"capture-opened-kill-{engine}")
    source = followed_source(request, engine, readings=20_000)
    spec = _spec(mode="online")
    spec["tables"] = {"include": ["readings"]}
    _restart(operator, crash_at="capture-opened")
    with ActiveJobWatch(kube_api, namespace) as jobs:
        start_migration(kube_api, namespace, "live", source.db, pg_db2, spec)
        _wait_crashed(operator, "capture-opened")
        migration = get_migration(kube_api, namespace, "live")
        uid, status = migration["metadata"]["uid"], migration.get("status") or {}
        assert status.get("phase") != "Running" and not status.get("jobName"), status
        assert not (status.get("replication") or {}).get("startPosition"), status
        assert status.get("startTime"), "start time (the capture may exist) is recorded before the capture"
        start = recorded_start(pg_db2, uid)
        assert start, "the capture's start is recorded on the target before the crash point"
        held = source.holds()
        assert len(held) == int(source.opens_on_server), held  # the slot; nothing on a MariaDB server
        assert copy_jobs(kube_api, namespace, "live") == []
        source.execute(  # while nobody watches
            "INSERT INTO readings SELECT id + 100000, taken_at, value FROM readings WHERE id <= 500",
            "UPDATE readings SET value = value + 1 WHERE id % 7 = 0",
            "DELETE FROM readings WHERE id % 11 = 0",
        )
        _restart(operator)
        restarted = time.monotonic()
        _kill_later(operator, kube_api, namespace, "live", rng.uniform(0.5, 5.0))  # somewhere in recovery
        following = wait_for_phase(kube_api, namespace, "live", {"Following"}, timeout=300)["status"]
        wait_same_rows(source.db, pg_db2, READINGS)
        print(f"restart to Following with equal rows: {time.monotonic() - restarted:.1f}s")
        # One capture start: the one recorded before the kill, in status and on the target alike
        # (its event is lost if the random kill fell between the status write and the post).
        assert following["replication"]["startPosition"] == start, (following["replication"], start)
        assert recorded_start(pg_db2, uid) == start
        opened = [
            e.message for e in migration_events(kube_api, namespace, "live") if e.reason == CAPTURE_STARTED
        ]
        assert len(opened) <= 1 and all(m.endswith(f" at {start}") for m in opened), (opened, start)
        # One capture follows: PostgreSQL's slot of before the kill; one binlog dump thread.
        following_held = source.wait_holds(1)
        assert following_held == held or not source.opens_on_server, (following_held, held)
        assert [j.metadata.name for j in copy_jobs(kube_api, namespace, "live")] == ["live-copy-1"]
        assert following["attempts"] == 1
    jobs.assert_never_two()
    client.CustomObjectsApi(kube_api).delete_namespaced_custom_object(
        GROUP, VERSION, namespace, "migrations", "live"
    )
    _wait_nothing_left(kube_api, namespace, pod_runner, source, pg_db2, uid)


def _wait_nothing_left(
    api: client.ApiClient, namespace: str, pod_runner: PodRunner, source: FollowedSource, target: Database,
    uid: str,
) -> None:  # fmt: skip
    """A deleted online Migration leaves no Job, no pod or process of one, nothing of its capture
    on the source (no slot keeps WAL, no dump thread reads the binlog) and no bookkeeping row."""
    deadline = time.monotonic() + 120
    while True:
        left = [f"job {j.metadata.name}" for j in worker_jobs(api, namespace, "live")]
        pods = client.CoreV1Api(api).list_namespaced_pod(namespace, label_selector="ferry.dev/migration=live")
        left += [f"pod {p.metadata.name}" for p in pods.items]
        left += [f"process of pod {r.name}" for r in pod_runner.runs(namespace) if not r.finished.is_set()]
        left += source.holds()
        left += [f"bookkeeping start {s}" for s in [recorded_start(target, uid)] if s]
        if not left:
            return
        assert time.monotonic() < deadline, f"the deleted Migration left {left}"
        time.sleep(0.5)


def _discarding_genre(target: Database) -> None:
    """`genre` exists on the target (as Chinook defines it) and discards every inserted row: the
    row count fails, so the Migration rolls back, deterministically."""
    with psycopg.connect(target.libpq_dsn(), autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE genre (genre_id int NOT NULL, name varchar(120), "
            "CONSTRAINT genre_pkey PRIMARY KEY (genre_id))"
        )
        conn.execute(
            "CREATE FUNCTION discard_row() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RETURN NULL; END $$"
        )
        conn.execute(
            "CREATE TRIGGER discard BEFORE INSERT ON genre FOR EACH ROW EXECUTE FUNCTION discard_row()"
        )


def _tables(db: Database) -> set[str]:
    with psycopg.connect(db.libpq_dsn()) as conn:
        rows = conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'").fetchall()
    return {r[0] for r in rows}


def test_the_operator_killed_after_rolling_back_records_the_rollback_once(
    kube_api: client.ApiClient, namespace: str, operator: OperatorProcess, pod_runner: PodRunner,
    pg_source: Database, pg_db2: Database,
) -> None:  # fmt: skip
    rng = fault_rng("rolling-back-kill")
    _discarding_genre(pg_db2)
    _restart(operator, crash_at="rolled-back")
    spec = _spec(rollback={"onFailure": "drop-created"}, validation={"rowCount": True})
    spec["tables"] = {"include": ["artist", "genre"]}
    start_migration(kube_api, namespace, "undo", pg_source, pg_db2, spec)
    _wait_crashed(operator, "rolled-back")
    assert _phase(kube_api, namespace, "undo") == "RollingBack"
    assert "artist" not in _tables(pg_db2), "the rollback had not run before the crash point"
    _restart(operator)
    _kill_later(operator, kube_api, namespace, "undo", rng.uniform(0.0, 3.0))
    done = wait_for_phase(kube_api, namespace, "undo", {"RolledBack"}, timeout=180)["status"]
    assert done["createdTables"] == ["public.artist"]
    assert "genre" in done["message"], done["message"]
    assert "artist" not in _tables(pg_db2) and "genre" in _tables(pg_db2)
    wait_for_event(kube_api, namespace, "undo", "RolledBack")
    assert len(copy_jobs(kube_api, namespace, "undo")) == 1


def test_the_operator_killed_during_a_delete_time_rollback_finishes_the_deletion(
    kube_api: client.ApiClient, namespace: str, operator: OperatorProcess, pod_runner: PodRunner,
    pg_source: Database, pg_db2: Database,
) -> None:  # fmt: skip
    rng = fault_rng("delete-rollback-kill")
    create_connection(kube_api, namespace, "src", pg_source)
    create_connection(kube_api, namespace, "dst", pg_db2)
    spec = _spec(rollback={"onDelete": "drop-created"}, validation={"rowCount": True})
    spec["tables"] = {"include": ["artist", "album"]}
    create_migration(kube_api, namespace, "gone", spec)
    # onDelete drop-created is a destructive data operation: approve the plan, then it runs.
    wait_for_phase(kube_api, namespace, "gone", {"AwaitingApproval"}, timeout=120)
    approve_current_plan(kube_api, namespace, "gone")
    wait_for_phase(kube_api, namespace, "gone", {"Succeeded"}, timeout=180)
    assert {"artist", "album"} <= _tables(pg_db2)

    _restart(operator, crash_at="delete-rolled-back")
    client.CustomObjectsApi(kube_api).delete_namespaced_custom_object(
        GROUP, VERSION, namespace, "migrations", "gone"
    )
    _wait_crashed(operator, "delete-rolled-back")
    assert not {"artist", "album"} & _tables(pg_db2), "the rollback had not run before the crash point"
    assert get_migration(kube_api, namespace, "gone")["metadata"]["finalizers"], "the finalizer went early"
    _restart(operator)
    _kill_later(operator, kube_api, namespace, "gone", rng.uniform(0.0, 3.0))
    deadline = time.monotonic() + 120
    while True:
        try:
            get_migration(kube_api, namespace, "gone")
        except client.ApiException as exc:
            assert exc.status == 404
            break
        assert time.monotonic() < deadline, "the Migration was never released after the restart"
        time.sleep(0.5)
    assert not {"artist", "album"} & _tables(pg_db2)
