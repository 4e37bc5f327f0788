"""MySQL/MariaDB and SQLite targets: INSERT batches with checkpoints, onConflict, checksums that agree."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from ferry.api.migration import CopySpec, OnConflict
from ferry.copy import CopyJob, Endpoints, SQLiteEndpoint, plan_units, run_units, validate
from harness.databases import Database
from integration.copy.helpers import mysql_endpoint, mysql_exec, pg_endpoint, pg_exec, table_mapping

SOURCE = (
    "CREATE TABLE t (id integer PRIMARY KEY, name text, price numeric(10,2), at timestamp, raw bytea, "
    "ok boolean)",
    "INSERT INTO t SELECT i, 'ñame ' || i, i / 7.0, '2024-01-01'::timestamp + i * interval '1 minute', "
    "decode(md5(i::text), 'hex'), i % 2 = 0 FROM generate_series(1, 700) i",
)
COLUMNS_MYSQL = [
    ("id", "integer", "int"), ("name", "text", "varchar(40)"), ("price", "numeric(10,2)", "decimal(10,2)"),
    ("at", "timestamp", "datetime(6)"), ("raw", "bytea", "blob"), ("ok", "boolean", "tinyint(1)"),
]  # fmt: skip


async def test_pg_to_mariadb_inserts_batches_and_updates_on_conflict(
    pg_db: Database, mariadb_db: Database
) -> None:
    pg_exec(pg_db, *SOURCE)
    mysql_exec(mariadb_db, "CREATE TABLE t (id INT PRIMARY KEY, name VARCHAR(40), price DECIMAL(10,2), "
                           "at DATETIME(6), raw BLOB, ok TINYINT(1))",
               "INSERT INTO t (id, name) VALUES (5, 'stale')")  # fmt: skip
    mapping = table_mapping("t", COLUMNS_MYSQL, target_schema=None)
    spec = CopySpec(batch_size=150, on_conflict=OnConflict.UPDATE)
    job = CopyJob("to-maria", Endpoints(pg_endpoint(pg_db), mysql_endpoint(mariadb_db)), spec)

    results = await run_units(job, await plan_units([mapping], job.endpoints.source, spec))

    assert results.ok, results.failed
    (check,) = await validate(job, [mapping], checksum=True, chunk_rows=100)
    assert check.ok and check.checksum_match and check.target_rows == 700


async def _stop_now() -> bool:
    return True


async def test_pg_to_sqlite_inserts_and_resumes(pg_db: Database, tmp_path: Path) -> None:
    pg_exec(pg_db, *SOURCE)
    path = tmp_path / "target.db"
    with sqlite3.connect(path) as conn:
        conn.execute(
            "CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, price TEXT, at TEXT, raw BLOB, ok INTEGER)"
        )
    columns = [(c, s, t) for c, s, t in [("id", "integer", "integer"), ("name", "text", "text"),
               ("raw", "bytea", "blob"), ("ok", "boolean", "boolean")]]  # fmt: skip
    mapping = table_mapping("t", columns, target_schema=None)
    target = SQLiteEndpoint(lambda: sqlite3.connect(path, check_same_thread=False))
    job = CopyJob("to-sqlite", Endpoints(pg_endpoint(pg_db), target), CopySpec(batch_size=200))
    units = await plan_units([mapping], job.endpoints.source, job.copy)

    first = await run_units(job, units, should_stop=_stop_now)
    results = await run_units(job, units)
    again = await run_units(job, units)

    assert [r.state for r in first.results] == ["stopped"]
    assert results.ok and again.ok and again.rows_copied == 700, results.failed
    (check,) = await validate(job, [mapping], checksum=True)
    assert check.ok and check.checksum_match


async def test_a_mariadb_target_takes_child_rows_before_their_parents(
    pg_db: Database, mariadb_db: Database
) -> None:
    # Units load in any table order; the target's foreign key must not refuse the child table
    # loaded first (the load sessions run with foreign_key_checks = 0, as mysqldump's do).
    pg_exec(pg_db, "CREATE TABLE parent (id integer PRIMARY KEY)", "INSERT INTO parent VALUES (1), (2)",
            "CREATE TABLE child (id integer PRIMARY KEY, parent_id integer)",
            "INSERT INTO child VALUES (10, 1), (11, 2)")  # fmt: skip
    mysql_exec(mariadb_db, "CREATE TABLE parent (id INT PRIMARY KEY) ENGINE=InnoDB",
               "CREATE TABLE child (id INT PRIMARY KEY, parent_id INT, "
               "FOREIGN KEY (parent_id) REFERENCES parent (id)) ENGINE=InnoDB")  # fmt: skip
    child = table_mapping(
        "child", [("id", "integer", "int"), ("parent_id", "integer", "int")], target_schema=None
    )
    parent = table_mapping("parent", [("id", "integer", "int")], target_schema=None)
    spec = CopySpec(batch_size=150)
    job = CopyJob("fk-order", Endpoints(pg_endpoint(pg_db), mysql_endpoint(mariadb_db)), spec)

    for mapping in (child, parent):
        results = await run_units(job, await plan_units([mapping], job.endpoints.source, spec))
        assert results.ok, results.failed

    checks = await validate(job, [child, parent], checksum=True, chunk_rows=100)
    assert all(check.ok and check.checksum_match for check in checks)
