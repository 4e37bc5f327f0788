"""Online migrations end to end: a writer keeps changing the source through the copy and the
follow, the follower pod is killed twice, then `kubectl ferry cutover`; the target must equal the
source, its sequences must continue, and nothing of the capture may stay on the source. While it
follows, the follower reports the sessions it holds, and the operator's /metrics counts them.

Real control plane, operator process, pod runner, real PostgreSQL (wal_level logical) and
MariaDB (row-based binlog) servers.
"""

from __future__ import annotations

import random
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg
import pymysql
import pytest
from kubernetes import client

from e2e.followed_sources import rows
from e2e.migration_helpers import condition, get_migration, start_migration, wait_for_phase
from e2e.test_connection_metrics import wait_for_metrics
from harness.controlplane import ControlPlane
from harness.databases import Database, MariaDBServer, PostgresServer
from harness.datasets import load_chinook
from harness.operator_process import OperatorProcess
from harness.podrunner import PodRunner

# Out-of-line TOAST: ~13 kB of hex digests barely compress, so PostgreSQL stores them apart and
# pgoutput sends "unchanged" for them in updates that do not touch the column.
BIG_DOC = "(SELECT string_agg(md5(random()::text), '') FROM generate_series(1, 400))"
KEY_SHIFT = 10_000_000  # key updates move an id above every id the sequence hands out


def _online_spec(**extra: Any) -> dict[str, Any]:
    return {
        "source": {"connectionRef": {"name": "src"}},
        "target": {"connectionRef": {"name": "dst"}, "schema": "public"},
        "mode": "online",
        "copy": {"batchSize": 500, "parallelism": 2},
        "validation": {"rowCount": True, "checksum": True},
        **extra,
    }


class Writer:
    """Changes the source in small transactions until stopped: inserts, updates (a TOASTed
    column untouched, or rewritten), key updates and deletes. Counts what it did."""

    def __init__(self, step: Callable[[random.Random], str]) -> None:
        self.step = step
        self.done: dict[str, int] = {}
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="source-writer", daemon=True)

    def start(self) -> Writer:
        self._thread.start()
        return self

    def stop(self) -> dict[str, int]:
        self._stop.set()
        self._thread.join(timeout=30)
        assert not self.errors, self.errors[:3]
        return self.done

    def _run(self) -> None:
        rng = random.Random(7)
        while not self._stop.is_set():
            try:
                kind = self.step(rng)
                self.done[kind] = self.done.get(kind, 0) + 1
            except Exception as exc:  # a failed statement is a test failure, reported at stop()
                self.errors.append(f"{type(exc).__name__}: {exc}")
            time.sleep(0.01)


def _pg_step(db: Database) -> Callable[[random.Random], str]:
    conn = psycopg.connect(db.libpq_dsn(), autocommit=True)

    def step(rng: random.Random) -> str:
        kind = rng.choice(["insert", "insert", "update", "update_doc", "key_update", "delete", "chinook"])
        pick = "(SELECT id FROM events WHERE id < %s ORDER BY random() LIMIT 1)"
        with conn.transaction():
            if kind == "insert":
                conn.execute(f"INSERT INTO events (payload, doc) VALUES (md5(random()::text), {BIG_DOC})")
            elif kind == "update":  # doc untouched: its TOAST value is not resent
                conn.execute(
                    f"UPDATE events SET payload = md5(random()::text) WHERE id = {pick}", (KEY_SHIFT,)
                )
            elif kind == "update_doc":
                conn.execute(f"UPDATE events SET doc = {BIG_DOC} WHERE id = {pick}", (KEY_SHIFT,))
            elif kind == "key_update":
                conn.execute(f"UPDATE events SET id = id + {KEY_SHIFT} WHERE id = {pick}", (KEY_SHIFT,))
            elif kind == "delete":
                conn.execute(f"DELETE FROM events WHERE id = {pick}", (2 * KEY_SHIFT,))
            else:
                conn.execute(
                    "UPDATE track SET unit_price = unit_price + 0.01 WHERE track_id = %s",
                    (rng.randint(1, 3503),),
                )
        return kind

    return step


def _pg_tables(db: Database) -> list[str]:
    query = (
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename NOT LIKE 'ferry%' "
        "ORDER BY 1"
    )
    return [str(r[0]) for r in rows(db, query)]


def _pg_digest(db: Database, table: str) -> tuple[int, str]:
    """Row count and an md5 of every row's text form, in a fixed order: equal means equal tables."""
    with psycopg.connect(db.libpq_dsn()) as conn:
        digest = "md5(coalesce(string_agg(md5(t::text), '' ORDER BY md5(t::text)), ''))"  # rows can be large
        row = conn.execute(f'SELECT count(*), {digest} FROM "{table}" t').fetchone()
    assert row is not None
    return int(row[0]), str(row[1])


def _follower_runs(pod_runner: PodRunner, namespace: str, name: str) -> list[Any]:
    return [r for r in pod_runner.runs(namespace) if r.name.startswith(f"{name}-follow-")]


def _kill_the_follower(pod_runner: PodRunner, namespace: str, name: str, timeout: float = 90) -> None:
    """SIGKILL the running follower pod and wait until the Job's replacement runs."""
    running = [r for r in _follower_runs(pod_runner, namespace, name) if r.exit_code is None]
    assert running, "no running follower pod to kill"
    pod_runner.kill(running[0].name, namespace)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        fresh = [r for r in _follower_runs(pod_runner, namespace, name) if r.exit_code is None]
        if fresh and fresh[0].name != running[0].name:
            return
        time.sleep(0.3)
    raise AssertionError(f"no replacement follower pod after {timeout}s: {pod_runner.all_logs()[-3000:]}")


def _wait_applied(
    api: client.ApiClient, namespace: str, name: str, changes: int, timeout: float = 120
) -> None:
    """Until the follower reports at least `changes` applied changes (it has caught up some)."""
    deadline = time.monotonic() + timeout
    replication: dict[str, Any] = {}
    while time.monotonic() < deadline:
        replication = (get_migration(api, namespace, name).get("status") or {}).get("replication") or {}
        if replication.get("changesApplied", 0) >= changes and replication.get("state") in {"Following"}:
            return
        time.sleep(0.5)
    raise AssertionError(f"the follower did not apply {changes} changes in {timeout}s: {replication}")


def _wait_sessions_held(
    api: client.ApiClient, namespace: str, name: str, source: int = 1, target: int = 1, timeout: float = 120
) -> dict[str, Any]:
    """Until the follower's report shows `source` sessions to the source and `target` to the
    target (what it holds for as long as it follows)."""
    deadline = time.monotonic() + timeout
    replication: dict[str, Any] = {}
    while time.monotonic() < deadline:
        replication = (get_migration(api, namespace, name).get("status") or {}).get("replication") or {}
        sessions = replication.get("sessions") or {}
        if sessions.get("source", 0) >= source and sessions.get("target", 0) >= target:
            return replication
        time.sleep(0.5)
    raise AssertionError(f"the follower reported no session to each side in {timeout}s: {replication}")


def _cutover(plane: ControlPlane, namespace: str, name: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ferry.cli.main", "cutover", f"mig/{name}", "-n", namespace,
         "--kubeconfig", str(plane.kubeconfig_path)],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def _assert_cutover_recorded(status: dict[str, Any]) -> None:
    cutover = status.get("cutover") or {}
    for field in ("requestedAt", "position", "completedAt", "durationSeconds"):
        assert cutover.get(field) not in (None, ""), (field, cutover)
    assert condition(status, "Ready")["status"] == "True"
    assert (status.get("replication") or {}).get("state") == "CutOver", status.get("replication")
    assert status["replication"].get("startPosition")


# A fault scenario (followers killed mid-follow, 75 s): `make test-faults`, not the default run.
@pytest.mark.faults
def test_online_pg_to_pg_follows_a_busy_source_through_killed_followers_and_cuts_over(
    kube_api: client.ApiClient,
    namespace: str,
    operator: OperatorProcess,
    pod_runner: PodRunner,
    control_plane: ControlPlane,
    pg_server: PostgresServer,
    pg_source: Database,
    pg_db2: Database,
) -> None:
    with pg_server.admin() as admin:  # logical decoding needs the REPLICATION attribute
        admin.execute(f'ALTER ROLE "{pg_source.user}" REPLICATION')
    with psycopg.connect(pg_source.libpq_dsn(), autocommit=True) as conn:
        conn.execute("CREATE TABLE events (id bigserial PRIMARY KEY, payload text NOT NULL, doc text)")
        conn.execute(
            "INSERT INTO events (payload, doc) SELECT md5(g::text), "
            "CASE WHEN g % 50 = 0 THEN repeat(md5(g::text), 400) END FROM generate_series(1, 30000) g"
        )
    writer = Writer(_pg_step(pg_source)).start()  # before the copy: it must not miss a change
    start_migration(kube_api, namespace, "online", pg_source, pg_db2, _online_spec())

    following = wait_for_phase(kube_api, namespace, "online", {"Following"}, timeout=300)
    assert following["status"]["replication"]["startPosition"]
    assert following["status"]["jobKind"] == "follower"
    _wait_applied(kube_api, namespace, "online", 1)
    # The follower's sessions: in its report, and in the operator's per-connection gauge.
    replication = _wait_sessions_held(kube_api, namespace, "online")
    assert replication["pod"].startswith("online-follow-"), replication
    # apply: auto fell back to Ferry's applier (the target may not subscribe): the change stream and
    # the applier, nothing else held (native apply's checks closed their sessions before following).
    assert replication["sessions"] == {"source": 1, "target": 1, "sourceReconnects": 0, "targetReconnects": 0}

    def held(samples: dict[tuple[str, str, str], float], connection: str) -> float:
        return samples.get(("ferry_connection_sessions", connection, "online"), 0.0)

    wait_for_metrics(operator, namespace, lambda s: held(s, "src") >= 1 and held(s, "dst") >= 1)
    for _kill in range(2):
        _kill_the_follower(pod_runner, namespace, "online")
        time.sleep(2)  # the replacement applies some changes from the stored position
    _wait_applied(kube_api, namespace, "online", 1)

    done_by_writer = writer.stop()
    assert {"insert", "update", "update_doc", "key_update", "delete"} <= set(done_by_writer), done_by_writer
    result = _cutover(control_plane, namespace, "online")
    assert result.returncode == 0, result.stderr
    assert "cutover requested" in result.stdout

    done = wait_for_phase(kube_api, namespace, "online", {"Succeeded"}, timeout=300)
    status = done["status"]
    _assert_cutover_recorded(status)
    assert len(_follower_runs(pod_runner, namespace, "online")) >= 3  # two killed, one that cut over
    # Every follower pod's CPU time counts once: the killed ones' (their last reports) besides the last's.
    usage = status["usage"]
    print(f"usage: {usage}; the last follower's cpuSeconds: {status['replication']['cpuSeconds']}")
    assert usage["followerCpuSeconds"] > status["replication"]["cpuSeconds"] > 0

    tables = _pg_tables(pg_source)
    assert "events" in tables and _pg_tables(pg_db2) == tables
    for table in tables:
        assert _pg_digest(pg_db2, table) == _pg_digest(pg_source, table), table

    # The target's sequences continue after every id the source handed out (key updates included).
    with psycopg.connect(pg_db2.libpq_dsn(), autocommit=True) as conn:
        top = conn.execute("SELECT max(id) FROM events").fetchone()
        new = conn.execute("INSERT INTO events (payload) VALUES ('after cutover') RETURNING id").fetchone()
    assert top is not None and new is not None and new[0] > top[0]

    # Nothing of the capture is left on the source: no slot keeps WAL, no publication remains.
    with pg_server.admin(pg_source.name) as admin:
        slots = admin.execute(
            "SELECT slot_name FROM pg_replication_slots WHERE slot_name LIKE 'ferry%'"
        ).fetchall()
        publications = admin.execute(
            "SELECT pubname FROM pg_publication WHERE pubname LIKE 'ferry%'"
        ).fetchall()
    assert slots == [] and publications == []


def _maria_step(db: Database) -> Callable[[random.Random], str]:
    conn = pymysql.connect(host=db.host, port=db.port, user=db.user, password=db.password, database=db.name,
                           autocommit=True)  # fmt: skip

    def step(rng: random.Random) -> str:
        kind = rng.choice(["insert", "insert", "update", "delete"])
        with conn.cursor() as cur:
            if kind == "insert":
                cur.execute("INSERT INTO notes (body) VALUES (%s)", (f"note {rng.random()}",))
            elif kind == "update":
                cur.execute("UPDATE notes SET body = CONCAT(body, '+') ORDER BY RAND() LIMIT 1")
            else:
                cur.execute("DELETE FROM notes ORDER BY RAND() LIMIT 1")
        return kind

    return step


def test_online_mariadb_to_pg_follows_the_binlog_and_cuts_over(
    kube_api: client.ApiClient,
    namespace: str,
    operator: OperatorProcess,
    pod_runner: PodRunner,
    control_plane: ControlPlane,
    mariadb_server: MariaDBServer,
    pg_db2: Database,
) -> None:
    source = mariadb_server.create_database()
    load_chinook(source)
    with mariadb_server.admin(source.name) as admin, admin.cursor() as cur:  # reading the binlog as a replica
        cur.execute(f"GRANT REPLICATION SLAVE, REPLICATION CLIENT, RELOAD ON *.* TO '{source.user}'@'%'")
        columns = "id int AUTO_INCREMENT PRIMARY KEY, body varchar(200) NOT NULL"
        cur.execute(f"CREATE TABLE `{source.name}`.notes ({columns})")
        cur.execute(
            f"INSERT INTO `{source.name}`.notes (body) SELECT CONCAT('seed ', seq) FROM seq_1_to_2000"
        )
    writer = Writer(_maria_step(source)).start()
    start_migration(
        kube_api, namespace, "maria-online", source, pg_db2, _online_spec(schema={"mode": "create"})
    )
    wait_for_phase(kube_api, namespace, "maria-online", {"Following"}, timeout=300)
    _wait_applied(kube_api, namespace, "maria-online", 1)
    # The binlog reader's stream and control connections and the follower's control connection.
    held = _wait_sessions_held(kube_api, namespace, "maria-online", source=3)
    assert held["sessions"]["target"] == 1, held
    writer.stop()
    result = _cutover(control_plane, namespace, "maria-online")
    assert result.returncode == 0, result.stderr

    done = wait_for_phase(kube_api, namespace, "maria-online", {"Succeeded"}, timeout=300)
    _assert_cutover_recorded(done["status"])
    assert rows(pg_db2, "SELECT id, body FROM notes ORDER BY id") == rows(
        source, "SELECT id, body FROM notes ORDER BY id"
    )
    assert rows(pg_db2, 'SELECT count(*) FROM "Track"') == [(3503,)]
    with psycopg.connect(pg_db2.libpq_dsn(), autocommit=True) as conn:
        top = conn.execute("SELECT max(id) FROM notes").fetchone()
        new = conn.execute("INSERT INTO notes (body) VALUES ('after cutover') RETURNING id").fetchone()
    assert top is not None and new is not None and new[0] > top[0]


def test_online_pg_to_pg_with_native_apply_hands_off_to_a_subscription_and_cuts_over(
    kube_api: client.ApiClient,
    namespace: str,
    operator: OperatorProcess,
    pod_runner: PodRunner,
    control_plane: ControlPlane,
    pg_server: PostgresServer,
    pg_source: Database,
    pg_db2: Database,
) -> None:
    """`online.apply: native` with a superuser target (PostgreSQL 15 lets only superusers
    subscribe): the follower hands the changes to a subscription over Ferry's slot; a killed
    follower pod is replaced and adopts it; the cutover leaves no subscription, slot or publication."""
    with pg_server.admin() as admin:
        admin.execute(f'ALTER ROLE "{pg_source.user}" REPLICATION')
    with psycopg.connect(pg_source.libpq_dsn(), autocommit=True) as conn:
        conn.execute("CREATE TABLE events (id bigserial PRIMARY KEY, payload text NOT NULL, doc text)")
        conn.execute("INSERT INTO events (payload) SELECT md5(g::text) FROM generate_series(1, 5000) g")
    target = pg_server.as_superuser(pg_db2)
    writer = Writer(_pg_step(pg_source)).start()
    start_migration(
        kube_api, namespace, "native", pg_source, target, _online_spec(online={"apply": "native"})
    )

    wait_for_phase(kube_api, namespace, "native", {"Following"}, timeout=300)
    # Ferry's applier first replays the changes made during the copy (applyMethod native, with that
    # as its reason), then the subscription applies: no row counts from then on.
    deadline, replication = time.monotonic() + 120, {}
    while time.monotonic() < deadline and (
        replication.get("applyMethod") != "native" or "changesApplied" in replication
    ):
        replication = (get_migration(kube_api, namespace, "native").get("status") or {}).get(
            "replication"
        ) or {}
        time.sleep(0.5)
    assert replication.get("applyMethod") == "native" and "changesApplied" not in replication, replication
    with psycopg.connect(target.libpq_dsn(), autocommit=True) as conn:
        assert conn.execute("SELECT subenabled FROM pg_subscription").fetchall() == [(True,)]
    # Native apply's sessions: its control session on the source, its control and bookkeeping
    # sessions on the target.
    _wait_sessions_held(kube_api, namespace, "native", target=2)
    _kill_the_follower(pod_runner, namespace, "native")
    time.sleep(2)

    done_by_writer = writer.stop()
    assert {"insert", "update", "update_doc", "key_update", "delete"} <= set(done_by_writer), done_by_writer
    assert _cutover(control_plane, namespace, "native").returncode == 0
    done = wait_for_phase(kube_api, namespace, "native", {"Succeeded"}, timeout=300)
    _assert_cutover_recorded(done["status"])
    for table in _pg_tables(pg_source):
        assert _pg_digest(target, table) == _pg_digest(pg_source, table), table
    with psycopg.connect(target.libpq_dsn(), autocommit=True) as conn:
        assert conn.execute("SELECT subname FROM pg_subscription").fetchall() == []
    with pg_server.admin(pg_source.name) as admin:
        assert (
            admin.execute(
                "SELECT slot_name FROM pg_replication_slots WHERE slot_name LIKE 'ferry%'"
            ).fetchall()
            == []
        )
        assert (
            admin.execute("SELECT pubname FROM pg_publication WHERE pubname LIKE 'ferry%'").fetchall() == []
        )
