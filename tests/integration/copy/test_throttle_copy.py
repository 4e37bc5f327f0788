"""copy.throttle on a real copy: the worker holds batches back to keep its share of the rate,
every row still arrives, and the share halves with two workers."""

from __future__ import annotations

import asyncio

import psycopg
import pytest

from ferry.api.migration import MigrationSpec
from ferry.db.credentials import EnvSecretSource
from ferry.services.copy_driver import copy_share
from ferry.services.planning import plan_migration
from ferry.services.target_load import prepare_target
from harness.databases import Database
from integration.copy.helpers import side

pytestmark = pytest.mark.integration


def test_a_throttled_copy_waits_for_its_share_and_loses_nothing(pg_db: Database, pg_db2: Database) -> None:
    with psycopg.connect(pg_db.libpq_dsn(), autocommit=True) as conn:
        conn.execute("CREATE TABLE items (id int PRIMARY KEY, name text)")
        conn.execute("INSERT INTO items SELECT g, repeat('x', 100) FROM generate_series(1, 12000) g")
    # 12,000 rows at 4,000 rows/s shared by two workers: worker 0 alone gets 2,000 rows/s.
    spec = MigrationSpec.model_validate({
        "source": {"connectionRef": {"name": "src"}},
        "target": {"connectionRef": {"name": "dst"}, "schema": "public"},
        "schema": {"mode": "create"},
        "copy": {"batchSize": 1000, "throttle": {"rowsPerSecond": 4000}},
    })  # fmt: skip
    src, dst = side(pg_db), side(pg_db2)
    planned = plan_migration(spec, src, dst)
    prepare_target(dst, "throttled", planned, truncate=False)

    async def run() -> tuple[float | None, float, int]:
        share = await copy_share(spec, src, dst, migration_uid="throttled", secrets=EnvSecretSource(),
                                 mappings=planned.mappings, index=0, count=2)  # fmt: skip
        assert share.job.throttle is not None
        results = await share.run()
        assert results.ok, results.failed
        return share.job.throttle.rows_per_second, share.job.throttle.waited_seconds, results.rows_copied

    per_worker, waited, rows = asyncio.run(run())
    assert per_worker == 2000
    # The one unit's 12,000 rows are worth 6 s at 2,000 rows/s; less one second of burst and the
    # copy's own time, the worker held its batches back for seconds, not milliseconds.
    assert rows == 12000 and waited > 2.0
    with psycopg.connect(pg_db2.libpq_dsn()) as conn:
        assert conn.execute("SELECT count(*), sum(id) FROM items").fetchone() == (12000, 12000 * 12001 // 2)
