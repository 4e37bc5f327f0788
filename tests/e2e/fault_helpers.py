"""What the fault scenarios share: a seeded random source, table checksums on both sides, and a
watch that records how many copy Jobs of a Migration were ever active at once."""

from __future__ import annotations

import os
import random
import threading
import time
from typing import Any

import psycopg
from kubernetes import client

from e2e.migration_helpers import get_migration, worker_jobs
from harness.databases import Database

SEED_ENV = "FERRY_FAULT_SEED"


def fault_rng(scenario: str) -> random.Random:
    """A random source whose seed is printed (pytest -s, or the failure report) and replayed
    with FERRY_FAULT_SEED=<seed>."""
    seed = int(os.environ.get(SEED_ENV) or random.SystemRandom().randrange(1 << 32))
    print(f"\n{scenario}: {SEED_ENV}={seed}")
    return random.Random(f"{seed}:{scenario}")


def table_digest(db: Database, table: str, key: str = "id") -> tuple[int, int, str]:
    """(rows, distinct keys, md5 of every row as text in key order): equal on both sides when the
    copy is exact; rows > distinct keys is a duplicate."""
    with psycopg.connect(db.libpq_dsn()) as conn:
        row = conn.execute(
            f'SELECT count(*), count(DISTINCT "{key}"), '
            f"coalesce(md5(string_agg(t::text, '|' ORDER BY \"{key}\")), '') FROM \"{table}\" t"
        ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), str(row[2])


def assert_same_rows(source: Database, target: Database, tables: dict[str, str]) -> None:
    """Every table (name -> key column) holds the same rows on both sides, none twice."""
    for table, key in tables.items():
        want, got = table_digest(source, table, key), table_digest(target, table, key)
        assert got[0] == got[1], f"{table}: {got[0] - got[1]} duplicate rows on the target"
        assert got == want, f"{table}: target {got[:2]} differs from source {want[:2]} (or its checksum)"


def copy_jobs(api: client.ApiClient, namespace: str, name: str) -> list[Any]:
    return [j for j in worker_jobs(api, namespace, name) if "-copy-" in j.metadata.name]


def wait_rows(api: client.ApiClient, namespace: str, name: str, at_least: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = get_migration(api, namespace, name).get("status") or {}
        if sum(w.get("rowsCopied", 0) for w in (status.get("workers") or {}).values()) >= at_least:
            return
        time.sleep(0.2)
    raise AssertionError(f"fewer than {at_least} rows copied after {timeout}s")


def wait_phase_seen(
    api: client.ApiClient, namespace: str, name: str, phases: set[str], timeout: float = 120
) -> str:
    """Poll fast until the phase is one of `phases` (or the Migration has finished); returns it."""
    deadline = time.monotonic() + timeout
    phase = ""
    while time.monotonic() < deadline:
        try:
            phase = (get_migration(api, namespace, name).get("status") or {}).get("phase", "")
        except client.ApiException as exc:
            if exc.status != 404:
                raise
        if phase in phases or phase in {"Succeeded", "Failed", "RolledBack"}:
            return phase
        time.sleep(0.05)
    raise AssertionError(f"phase {phases} not seen after {timeout}s (last: {phase!r})")


class ActiveJobWatch:
    """Polls a namespace's Jobs and keeps, per Migration and Job kind (copy, follow, validate …),
    the most that were active (not finished) at once; a fault must never make it two."""

    def __init__(self, api: client.ApiClient, namespace: str) -> None:
        self.api, self.namespace = api, namespace
        self.most: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> ActiveJobWatch:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        batch = client.BatchV1Api(self.api)
        while not self._stop.is_set():
            try:
                jobs = batch.list_namespaced_job(self.namespace, label_selector="ferry.dev/migration").items
            except Exception:  # the API server may be away in some scenarios; look again
                self._stop.wait(0.5)
                continue
            active: dict[str, int] = {}
            for job in jobs:
                conditions = {c.type: c.status for c in (job.status.conditions or [])}
                if conditions.get("Complete") == "True" or conditions.get("Failed") == "True":
                    continue
                kind = job.metadata.name.rsplit("-", 2)[-2] if job.metadata.name.count("-") >= 2 else "job"
                key = f"{job.metadata.labels.get('ferry.dev/migration')}/{kind}"
                active[key] = active.get(key, 0) + 1
            for key, count in active.items():
                self.most[key] = max(self.most.get(key, 0), count)
            self._stop.wait(0.25)

    def assert_never_two(self) -> None:
        assert all(count <= 1 for count in self.most.values()), f"Jobs active at once: {self.most}"
