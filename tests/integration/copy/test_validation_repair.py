"""Validation in key ranges on real servers: damaged target rows are found and named by range,
the results survive a round trip through the store on the target, and a repair copies only the
differing ranges again so the next validation is clean."""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
from pathlib import Path

import pytest

from ferry.api.migration import CopySpec
from ferry.copy import (
    CopyJob,
    Endpoints,
    SQLiteEndpoint,
    plan_ranges,
    plan_units,
    run_units,
    validate,
    validate_ranges,
)
from ferry.copy.repair import repair_range
from ferry.copy.validate_ranges import ValidationRange, summarize
from ferry.copy.validation_store import RangeResult, clear_results, ensure_store, read_results, record
from ferry.schema.mapping import TableMapping
from harness.databases import Database, PostgresServer
from integration.copy.helpers import mysql_endpoint, mysql_exec, pg_endpoint, pg_exec, pg_rows, table_mapping

ROWS = 5000
RANGE_ROWS = 1000  # keys 1..5000 in five ranges: (,1000] (1000,2000] (2000,3000] (3000,4000] (4000,]


def _damage(target: Database) -> None:
    """One changed value (range 2), one lost row (range 4), one row the source never had (range 5)."""
    pg_exec(target, "UPDATE t SET v = 'tampered' WHERE id = 1234", "DELETE FROM t WHERE id = 3500",
            "INSERT INTO t VALUES (9999, 'stray')")  # fmt: skip


async def _copied(
    source: Endpoints, mysql: bool, src_db: Database, target: Database
) -> tuple[CopyJob, TableMapping]:
    if mysql:
        mysql_exec(src_db, "SET SESSION max_recursive_iterations = 100000",
                   "CREATE TABLE t (id BIGINT PRIMARY KEY, v VARCHAR(100))",
                   "INSERT INTO t WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s "
                   f"WHERE i < {ROWS}) SELECT i, CONCAT('row-', i) FROM s")  # fmt: skip
        mapping = table_mapping("t", [("id", "bigint(20)", "bigint"), ("v", "varchar(100)", "text")])
    else:
        pg_exec(src_db, "CREATE TABLE t (id bigint PRIMARY KEY, v text)",
                f"INSERT INTO t SELECT i, 'row-' || i FROM generate_series(1, {ROWS}) i")  # fmt: skip
        mapping = table_mapping("t", [("id", "bigint"), ("v", "text")])
    pg_exec(target, "CREATE TABLE t (id bigint PRIMARY KEY, v text)")
    job = CopyJob("val", source, CopySpec(batch_size=700))
    assert (await run_units(job, await plan_units([mapping], source.source, job.copy))).ok
    return job, mapping


@pytest.mark.parametrize("engine", ["postgresql", "mariadb"])
async def test_damaged_ranges_are_named_repaired_and_validate_clean(
    engine: str, pg_db: Database, pg_db2: Database, mariadb_db: Database
) -> None:
    source_db, target_db = (mariadb_db, pg_db) if engine == "mariadb" else (pg_db, pg_db2)
    source = mysql_endpoint(source_db) if engine == "mariadb" else pg_endpoint(source_db)
    job, mapping = await _copied(
        Endpoints(source, pg_endpoint(target_db)), engine == "mariadb", source_db, target_db
    )
    (clean,) = await validate(job, [mapping], checksum=True, range_rows=RANGE_ROWS)
    assert clean.ok and clean.target_rows == ROWS and clean.checksum_match

    _damage(target_db)
    (found,) = await validate(job, [mapping], checksum=True, range_rows=RANGE_ROWS)
    assert not found.ok and (found.source_rows, found.target_rows) == (ROWS, ROWS)  # -1 +1: counts hide it
    assert found.mismatched_ranges == ("public.t#2/5", "public.t#4/5", "public.t#5/5")
    assert found.first_difference == "keys (1001) .. (2000)"  # the range with the changed value
    (counts,) = await validate(job, [mapping], checksum=False, range_rows=RANGE_ROWS)
    assert not counts.ok and counts.mismatched_ranges == ("public.t#4/5", "public.t#5/5")  # per range

    async def repair(rng: ValidationRange) -> None:
        await repair_range(job, rng)

    (repaired,) = await validate(job, [mapping], checksum=True, range_rows=RANGE_ROWS, repair=repair)
    assert repaired.ok and repaired.repaired_ranges == ("public.t#2/5", "public.t#4/5", "public.t#5/5")
    (again,) = await validate(job, [mapping], checksum=True, range_rows=RANGE_ROWS)
    assert again.ok and again.checksum_match and not again.repaired_ranges
    assert pg_rows(
        target_db, "SELECT count(*), sum(id), count(*) FILTER (WHERE v = 'row-' || id) FROM t"
    ) == [(ROWS, ROWS * (ROWS + 1) // 2, ROWS)]


async def test_results_stored_on_the_target_read_back_as_the_same_verdict(
    pg_db: Database, pg_db2: Database
) -> None:
    job, mapping = await _copied(Endpoints(pg_endpoint(pg_db), pg_endpoint(pg_db2)), False, pg_db, pg_db2)
    _damage(pg_db2)
    ranges = await plan_ranges([mapping], job.endpoints.source, RANGE_ROWS)
    target = job.endpoints.target
    await ensure_store(target)  # as each validation pod does first

    async def store(result: RangeResult) -> None:
        await record(target, "uid-val", 1, result)

    results = await validate_ranges(job, ranges, checksum=True, concurrency=2, on_result=store)
    await record(target, "uid-val", 1, results[1])  # a retried pod stores a range again: replaced
    stored = await read_results(target, "uid-val", 1)
    assert [r.range_id for r in stored] == [r.range_id for r in results]
    assert summarize(stored) == summarize([dataclasses.replace(r, ordered=False) for r in results])
    assert await read_results(target, "uid-val", 2) == []  # another run: nothing yet
    assert await read_results(target, "other-uid", 1) == []


@pytest.mark.parametrize("engine", ["mariadb", "sqlite"])
async def test_the_store_round_trips_on_every_target_engine(
    engine: str, mariadb_db: Database, tmp_path: Path
) -> None:
    target = (
        mysql_endpoint(mariadb_db)
        if engine == "mariadb"
        else SQLiteEndpoint(lambda: sqlite3.connect(tmp_path / "t.db", check_same_thread=False))
    )
    await ensure_store(target)
    await ensure_store(target)  # idempotent: every pod runs it
    results = [
        RangeResult("public.t#1/2", "public.t", 0, '[null, "[1000]"]', 1000, 1000, True, None),
        RangeResult("public.t#2/2", "public.t", 1, '["[1000]", null]', 9, 10, None,
                    "keys after (1000) to the end", repaired=True),
    ]  # fmt: skip
    for result in reversed(results):
        await record(target, "uid-s", 3, result)
    assert await read_results(target, "uid-s", 3) == results
    await clear_results(target, "uid-s")
    assert await read_results(target, "uid-s", 3) == []


def test_postgresql_tables_of_common_types_take_the_server_side_checksum(
    pg_db: Database, pg_db2: Database
) -> None:
    from ferry.api.migration import MigrationSpec
    from ferry.copy import validate_pushdown
    from ferry.services.endpoints import endpoints_for
    from ferry.services.planning import source_mappings
    from integration.cdc.helpers import side

    ddl = ("CREATE TABLE orders (id bigint PRIMARY KEY, customer_id int NOT NULL, status text NOT NULL, "
           "amount numeric(12,2) NOT NULL, created_at timestamptz NOT NULL, note varchar(80), "
           "payload jsonb, day date, at timestamp, flag boolean, ratio double precision, raw bytea, "
           "tags text[])")  # fmt: skip
    pg_exec(pg_db, ddl)
    pg_exec(pg_db2, ddl)
    spec = MigrationSpec.model_validate(
        {"source": {"connectionRef": {"name": "s"}},
         "target": {"connectionRef": {"name": "t"}, "schema": "public"}, "schema": {"mode": "none"}}
    )  # fmt: skip
    source, target = side(pg_db), side(pg_db2)
    (mapping,) = source_mappings(spec, source, target)
    job = CopyJob("x", endpoints_for(source, target))
    assert validate_pushdown.eligible(job, mapping), [(c.source_type, c.target_type) for c in mapping.columns]


async def test_a_repair_overwrites_rows_other_tables_refer_to_instead_of_deleting_them(
    pg_db: Database, pg_db2: Database
) -> None:
    job, mapping = await _copied(Endpoints(pg_endpoint(pg_db), pg_endpoint(pg_db2)), False, pg_db, pg_db2)
    pg_exec(pg_db2, "CREATE TABLE child (id int PRIMARY KEY, t_id bigint NOT NULL REFERENCES t (id))",
            "INSERT INTO child SELECT i, i FROM generate_series(1, 5000) i",  # every parent row referred to
            "UPDATE t SET v = 'tampered' WHERE id IN (1234, 4321)")  # fmt: skip

    async def repair(rng: ValidationRange) -> None:
        await repair_range(job, rng)

    (repaired,) = await validate(job, [mapping], checksum=True, range_rows=RANGE_ROWS, repair=repair)
    assert repaired.ok and repaired.repaired_ranges == ("public.t#2/5", "public.t#5/5")
    assert pg_rows(pg_db2, "SELECT v FROM t WHERE id IN (1234, 4321) ORDER BY id") == [
        ("row-1234",),
        ("row-4321",),
    ]
    assert pg_rows(pg_db2, "SELECT count(*) FROM child") == [(5000,)]


async def test_validation_pods_creating_the_store_at_once_all_succeed(pg_server: PostgresServer) -> None:
    # Every validation pod runs ensure_store first, and they start together: without taking turns
    # two CREATE ... IF NOT EXISTS of one name can both miss it and one fails on the catalog's
    # unique index (seen in the bench), which costs the Job a retry.
    for _ in range(3):  # each on a database without the store yet
        target = pg_endpoint(pg_server.create_database())
        await asyncio.gather(*(ensure_store(target) for _ in range(8)))
        assert await read_results(target, "uid", 1) == []
