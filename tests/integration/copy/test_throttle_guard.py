"""copy.throttle.guard on a real copy: a Prometheus-compatible endpoint served by the test answers
a metric; flipped above the threshold mid-copy, no new batch starts (only those in flight finish)
while the guard reads it high; flipped below, the copy resumes and every row arrives intact."""

from __future__ import annotations

import asyncio

import psycopg
import pytest

from ferry.api.migration import MigrationSpec
from ferry.copy import ProgressEvent
from ferry.db.credentials import EnvSecretSource
from ferry.services.copy_driver import copy_share
from ferry.services.planning import plan_migration
from ferry.services.target_load import prepare_target
from harness.databases import Database
from harness.prometheus_stub import PrometheusStub
from integration.copy.helpers import side

pytestmark = pytest.mark.integration

ROWS = 10_000
CHECKSUM = "SELECT count(*), sum(id), md5(string_agg(name, ',' ORDER BY id)) FROM {}"


def _checksums(db: Database) -> list[tuple[object, ...]]:
    with psycopg.connect(db.libpq_dsn()) as conn:
        return [tuple(conn.execute(CHECKSUM.format(t)).fetchone() or ()) for t in ("a", "b")]


def test_a_guard_above_its_threshold_pauses_new_batches_and_below_resumes(
    pg_db: Database, pg_db2: Database
) -> None:
    with psycopg.connect(pg_db.libpq_dsn(), autocommit=True) as conn:
        for table in ("a", "b"):
            conn.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, name text)")
            conn.execute(f"INSERT INTO {table} SELECT g, md5(g::text) FROM generate_series(1, {ROWS}) g")
    with PrometheusStub(value=1.0, token="guard-token") as prometheus:
        # 4,000 rows/s in batches of 200: 5 s of copying, so the metric flips while it runs.
        spec = MigrationSpec.model_validate({
            "source": {"connectionRef": {"name": "src"}},
            "target": {"connectionRef": {"name": "dst"}, "schema": "public"},
            "schema": {"mode": "create"},
            "copy": {"batchSize": 200, "throttle": {"rowsPerSecond": 4000, "guard": {
                "prometheusUrl": prometheus.url, "query": "pg_replication_lag_seconds", "threshold": 30,
                "intervalSeconds": 1, "credentialsSecretRef": {"name": "prom", "key": "token"}}}},
        })  # fmt: skip
        src, dst = side(pg_db), side(pg_db2)
        planned = plan_migration(spec, src, dst)
        prepare_target(dst, "guarded", planned, truncate=False)
        secrets = EnvSecretSource({"FERRY_SECRET_PROM_TOKEN": "guard-token"})
        batches: list[ProgressEvent] = []

        def progress(event: ProgressEvent) -> None:
            if event.rows_delta:
                batches.append(event)
            if len(batches) == 6:
                prometheus.value = 120.0  # the source's lag climbs above the threshold mid-copy

        async def run() -> tuple[int, int, int]:
            share = await copy_share(spec, src, dst, migration_uid="guarded", secrets=secrets,
                                     mappings=planned.mappings)  # fmt: skip
            guard = share.job.guard
            assert guard is not None
            copying = asyncio.create_task(share.run(progress=progress))
            while not guard.paused and not copying.done():
                await asyncio.sleep(0.05)
            assert guard.paused, "the copy ended before the guard read the metric high"
            at_pause, reads = len(batches), len(prometheus.queries)
            while len(prometheus.queries) < reads + 3:  # three more readings, all high
                await asyncio.sleep(0.05)
            held = len(batches) - at_pause
            prometheus.value = 2.0  # the lag falls back
            results = await copying
            assert results.ok, results.failed
            return held, guard.pauses, results.rows_copied

        held, pauses, rows = asyncio.run(run())
    # While the guard read the metric high, only the batches already in flight (at most one per
    # unit copied at once, two) committed; none started.
    assert held <= 2, held
    assert pauses == 1 and rows == 2 * ROWS
    assert set(prometheus.queries) == {"pg_replication_lag_seconds"}
    assert _checksums(pg_db2) == _checksums(pg_db)
