"""Failures inside a batch: the batch and its checkpoint roll back together; a rerun completes exactly."""

from __future__ import annotations

import pytest

from ferry.api.migration import CopySpec, OnConflict
from ferry.copy import CopyJob, Endpoints, plan_units, run_units, validate
from harness.databases import Database
from integration.copy.helpers import mysql_endpoint, mysql_exec, pg_endpoint, pg_exec, pg_rows, table_mapping

CHECKPOINT = "SELECT last_key, rows_copied, done FROM ferry._ferry_checkpoints WHERE migration_uid = %s"

# Row 150 raises on the source while its batch (ids 101..200) streams: rows before it have been sent.
# While fail_switch is empty, the filter divides by zero there.
PG_FAIL_AT_150 = "id <> 150 OR 1 / (SELECT count(*) FROM fail_switch) = 1"


@pytest.mark.parametrize("transformed", [False, True], ids=["binary-pass-through", "row-path"])
async def test_pg_source_error_mid_batch_keeps_previous_checkpoint(
    pg_db: Database, pg_db2: Database, transformed: bool
) -> None:
    pg_exec(pg_db, "CREATE TABLE t (id integer PRIMARY KEY, v text)",
            "INSERT INTO t SELECT i, repeat('x', 200) || i FROM generate_series(1, 400) i",
            "CREATE TABLE fail_switch (on_ integer)")  # fmt: skip
    pg_exec(pg_db2, "CREATE TABLE t (id integer, v text)")
    from ferry.api.migration import Transform

    mask = {"v": Transform(column="v", type="mask", keep_first=3)} if transformed else {}  # type: ignore[arg-type]
    mapping = table_mapping("t", [("id", "integer"), ("v", "text")], where=PG_FAIL_AT_150, transforms=mask)
    job = CopyJob("fail", Endpoints(pg_endpoint(pg_db), pg_endpoint(pg_db2)), CopySpec(batch_size=100))
    units = await plan_units([mapping], job.endpoints.source, job.copy)

    first = await run_units(job, units)

    assert not first.ok and "division by zero" in (first.failed[0].error or "")
    assert pg_rows(pg_db2, CHECKPOINT.replace("%s", "'fail'")) == [('["100"]', 100, False)]
    assert pg_rows(pg_db2, "SELECT count(*), max(id) FROM t") == [(100, 100)]

    pg_exec(pg_db, "INSERT INTO fail_switch VALUES (1)")
    second = await run_units(job, units)

    assert second.ok and second.rows_copied == 400
    assert pg_rows(pg_db2, "SELECT count(*), count(DISTINCT id), sum(id) FROM t") == [(400, 400, 80200)]


async def test_mariadb_source_error_mid_batch_keeps_previous_checkpoint(
    mariadb_db: Database, pg_db: Database
) -> None:
    mysql_exec(
        mariadb_db,
        "CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(300))",
        "INSERT INTO t WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 400) "
        "SELECT i, CONCAT(REPEAT('x', 200), i) FROM s",
        "CREATE TABLE fail_switch (on_ INT)",
        "INSERT INTO fail_switch VALUES (1), (2)",
    )
    pg_exec(pg_db, "CREATE TABLE t (id integer, v text)")
    # While fail_switch holds two rows, the subquery fails at id 150 ("Subquery returns more than 1 row").
    where = "(SELECT on_ FROM fail_switch WHERE t.id = 150) IS NULL OR id = 150"
    mapping = table_mapping("t", [("id", "int(11)", "integer"), ("v", "varchar(300)", "text")], where=where)
    job = CopyJob("fail", Endpoints(mysql_endpoint(mariadb_db), pg_endpoint(pg_db)), CopySpec(batch_size=100))
    units = await plan_units([mapping], job.endpoints.source, job.copy)

    first = await run_units(job, units)

    assert not first.ok and "more than 1 row" in (first.failed[0].error or "")
    assert pg_rows(pg_db, CHECKPOINT.replace("%s", "'fail'")) == [("[100]", 100, False)]
    assert pg_rows(pg_db, "SELECT count(*) FROM t") == [(100,)]

    mysql_exec(mariadb_db, "DELETE FROM fail_switch WHERE on_ = 2")
    second = await run_units(job, units)

    assert second.ok
    (check,) = await validate(job, [mapping], checksum=True)
    assert check.ok and check.checksum_match and check.target_rows == 400


async def test_target_conflict_fails_unless_on_conflict_skips_or_updates(
    pg_db: Database, pg_db2: Database
) -> None:
    pg_exec(pg_db, "CREATE TABLE t (id integer PRIMARY KEY, v text)",
            "INSERT INTO t SELECT i, 'new' || i FROM generate_series(1, 300) i")  # fmt: skip
    pg_exec(
        pg_db2,
        "CREATE TABLE t (id integer PRIMARY KEY, v text)",
        "INSERT INTO t VALUES (7, 'old'), (250, 'old')",
    )
    mapping = table_mapping("t", [("id", "integer"), ("v", "text")])
    endpoints = Endpoints(pg_endpoint(pg_db), pg_endpoint(pg_db2))

    failed = await run_units(CopyJob("error", endpoints, CopySpec(batch_size=100)), [*await plan_units(
        [mapping], endpoints.source, CopySpec())])  # fmt: skip
    assert not failed.ok and "duplicate key" in (failed.failed[0].error or "")
    assert pg_rows(pg_db2, "SELECT count(*) FROM t") == [(2,)]

    skip = CopyJob("skip", endpoints, CopySpec(batch_size=100, on_conflict=OnConflict.SKIP))
    assert (await run_units(skip, await plan_units([mapping], endpoints.source, skip.copy))).ok
    assert pg_rows(pg_db2, "SELECT count(*), min(v) FROM t WHERE v = 'old'") == [(2, "old")]
    assert pg_rows(pg_db2, "SELECT count(*) FROM t") == [(300,)]

    update = CopyJob("update", endpoints, CopySpec(batch_size=100, on_conflict=OnConflict.UPDATE))
    assert (await run_units(update, await plan_units([mapping], endpoints.source, update.copy))).ok
    assert pg_rows(pg_db2, "SELECT count(*) FROM t WHERE v LIKE 'new%'") == [(300,)]


async def test_table_without_key_is_one_transaction(pg_db: Database, pg_db2: Database) -> None:
    pg_exec(pg_db, "CREATE TABLE log (at integer, msg text)",
            "INSERT INTO log SELECT i % 5, 'm' || i FROM generate_series(1, 250) i")  # fmt: skip
    pg_exec(pg_db2, "CREATE TABLE log (at integer, msg text)")
    mapping = table_mapping("log", [("at", "integer"), ("msg", "text")], key=())
    job = CopyJob("nokey", Endpoints(pg_endpoint(pg_db), pg_endpoint(pg_db2)), CopySpec(batch_size=10))

    units = await plan_units([mapping], job.endpoints.source, job.copy)
    results = await run_units(job, units)
    again = await run_units(job, units)

    assert [u.unit_id for u in units] == ["public.log"]
    assert results.ok and again.ok and again.rows_copied == 250
    assert pg_rows(pg_db2, "SELECT count(*) FROM log") == [(250,)]
    (check,) = await validate(job, [mapping], checksum=True)
    assert check.ok and check.checksum_match and not check.ordered
