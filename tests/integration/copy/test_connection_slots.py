"""maxConnections in one process (`ferry run`'s case, and each worker pod's share): with four
units copied at once, the source never sees more than its 2 connections nor the target more than
its 1 (the server's own pg_stat_activity, sampled throughout), and every row arrives."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter

import psycopg
import pytest

from ferry.api.connection import DatabaseConnectionSpec
from ferry.api.migration import MigrationSpec
from ferry.db.credentials import Credentials, EnvSecretSource
from ferry.services.copy_driver import copy_share
from ferry.services.planning import Side, plan_migration
from ferry.services.target_load import prepare_target
from harness.databases import Database, PostgresServer

pytestmark = pytest.mark.integration


def _side(db: Database, max_connections: int) -> Side:
    spec = DatabaseConnectionSpec.model_validate(
        {"engine": db.engine, "host": db.host, "port": db.port, "database": db.name,
         "credentialsSecretRef": {"name": "unused"}, "maxConnections": max_connections}
    )  # fmt: skip
    return Side(spec, Credentials(db.user, db.password))


def test_one_process_holds_no_more_connections_than_max_connections(
    pg_server: PostgresServer, pg_db: Database, pg_db2: Database
) -> None:
    with psycopg.connect(pg_db.libpq_dsn(), autocommit=True) as conn:
        for table in ("a", "b", "c", "d"):
            conn.execute(f"CREATE TABLE {table} (id int PRIMARY KEY, name text)")
            conn.execute(f"INSERT INTO {table} SELECT g, md5(g::text) FROM generate_series(1, 20000) g")
    spec = MigrationSpec.model_validate({
        "source": {"connectionRef": {"name": "src"}},
        "target": {"connectionRef": {"name": "dst"}, "schema": "public"},
        "schema": {"mode": "create"},
        "copy": {"batchSize": 500},
    })  # fmt: skip
    src, dst = _side(pg_db, 2), _side(pg_db2, 1)
    planned = plan_migration(spec, src, dst)
    prepare_target(dst, "slots", planned, truncate=False)
    most: Counter[str] = Counter()
    stop = threading.Event()

    def sample() -> None:
        with pg_server.admin() as conn:
            conn.autocommit = True
            while not stop.is_set():
                rows = conn.execute(
                    "SELECT datname, count(*) FROM pg_stat_activity WHERE application_name = 'ferry' "
                    "AND backend_type = 'client backend' GROUP BY datname"
                ).fetchall()
                for datname, count in rows:
                    most[str(datname)] = max(most[str(datname)], int(str(count)))
                stop.wait(0.01)

    async def run() -> tuple[int, int, int]:
        share = await copy_share(spec, src, dst, migration_uid="slots", secrets=EnvSecretSource(),
                                 mappings=planned.mappings, concurrency=4)  # fmt: skip
        assert share.job.source_slots is not None and share.job.target_slots is not None
        results = await share.run()
        assert results.ok, results.failed
        return share.job.source_slots.high_water, share.job.target_slots.high_water, results.rows_copied

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        source_most, target_most, rows = asyncio.run(run())
    finally:
        stop.set()
        sampler.join(timeout=10)
    assert rows == 80000
    assert (source_most, target_most) == (2, 1)  # the slots were used to the full, never beyond
    assert most[pg_db.name] <= 2 and most[pg_db2.name] <= 1, most
    assert most[pg_db.name] >= 1 and most[pg_db2.name] >= 1, most  # the sampler saw the copy
