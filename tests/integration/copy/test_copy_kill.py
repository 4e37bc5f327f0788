"""SIGKILL at random points of a copy, then a rerun: exactly the source rows arrive, none twice.

The target tables have no primary key, so a duplicated row would be counted, not refused.
Each row costs the source about a millisecond (a sleep in the `where` filter), so most
kills land inside a batch, while rows stream from source to target.
"""

from __future__ import annotations

import dataclasses
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from ferry.api.migration import CopySpec
from ferry.copy import CopyJob, Endpoints, validate
from harness.databases import Database
from integration.copy.helpers import mysql_endpoint, mysql_exec, pg_endpoint, pg_exec, pg_rows, table_mapping

TESTS = Path(__file__).resolve().parents[2]
CHECKPOINT = "SELECT coalesce(sum(rows_copied), 0), bool_and(done) FROM ferry._ferry_checkpoints"


def _start(config_file: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")])}
    return subprocess.Popen(
        [sys.executable, "-m", "integration.copy.copy_driver", str(config_file)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip


def _kill_repeatedly(config: dict[str, Any], target: Database, tmp_path: Path, kills: int, total: int) -> int:
    """Start and SIGKILL the copy `kills` times; returns how many kills hit an unfinished copy."""
    config_file = tmp_path / "copy.json"
    config_file.write_text(json.dumps(config))
    rng = random.Random(int(os.environ.get("FERRY_KILL_SEED", "20261127")))
    unfinished = 0
    for _ in range(kills):
        proc = _start(config_file)
        assert proc.stdout is not None
        line = proc.stdout.readline()  # "copying": the unit has opened its checkpoint
        time.sleep(rng.uniform(0.0, 0.25))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if line.strip() == "copying":
            copied, done = pg_rows(target, CHECKPOINT)[0]
            unfinished += not done
            assert copied <= total
    final = _start(config_file)
    _, err = final.communicate(timeout=120)
    assert final.returncode == 0, err
    return unfinished


def _config(source: Database, target: Database, columns: list[Any], where: str) -> dict[str, Any]:
    return {
        "uid": "kill-test", "source": dataclasses.asdict(source), "target": dataclasses.asdict(target),
        "table": "t", "columns": columns, "key": ["k1", "k2"], "where": where, "batch_size": 40,
    }  # fmt: skip


async def test_pg_to_pg_survives_sigkill_at_random_points(
    pg_db: Database, pg_db2: Database, tmp_path: Path
) -> None:
    pg_exec(pg_db, "CREATE TABLE t (k1 integer, k2 text, v text, b bytea, PRIMARY KEY (k1, k2))",
            "INSERT INTO t SELECT i % 17, 'k' || i, repeat('ü', i % 50), decode(md5(i::text), 'hex') "
            "FROM generate_series(1, 3000) i")  # fmt: skip
    pg_exec(pg_db2, "CREATE TABLE t (k1 integer, k2 text, v text, b bytea)")
    columns = [["k1", "integer"], ["k2", "text"], ["v", "text"], ["b", "bytea"]]
    config = _config(pg_db, pg_db2, columns, "pg_sleep(0.001) IS NOT NULL")

    unfinished = _kill_repeatedly(config, pg_db2, tmp_path, kills=22, total=3000)

    assert unfinished >= 15  # the kills landed during the copy, not after it
    snapshot = "SELECT count(*), md5(string_agg(t::text, '|' ORDER BY k1, k2)) FROM t"
    assert pg_rows(pg_db, snapshot) == pg_rows(pg_db2, snapshot)
    assert pg_rows(pg_db2, "SELECT count(*) FROM (SELECT DISTINCT k1, k2 FROM t) d") == [(3000,)]
    mapping = table_mapping("t", [tuple(c) for c in columns], ("k1", "k2"))  # type: ignore[misc]
    job = CopyJob("kill-test", Endpoints(pg_endpoint(pg_db), pg_endpoint(pg_db2)), CopySpec())
    (check,) = await validate(job, [mapping], checksum=True)
    assert check.ok and check.checksum_match


async def test_mariadb_to_pg_survives_sigkill_at_random_points(
    mariadb_db: Database, pg_db: Database, tmp_path: Path
) -> None:
    mysql_exec(
        mariadb_db,
        "SET SESSION max_recursive_iterations = 100000",
        "CREATE TABLE t (k1 INT, k2 VARCHAR(20), v VARCHAR(200), PRIMARY KEY (k1, k2)) CHARACTER SET utf8mb4",
        "INSERT INTO t WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 1500) "
        "SELECT i % 13, CONCAT('k', i), REPEAT('ü', i % 50) FROM s",
    )
    pg_exec(pg_db, "CREATE TABLE t (k1 integer, k2 varchar(20), v varchar(200))")
    columns = [
        ["k1", "int(11)", "integer"],
        ["k2", "varchar(20)", "varchar(20)"],
        ["v", "varchar(200)", "varchar(200)"],
    ]
    config = _config(mariadb_db, pg_db, columns, "SLEEP(0.001) = 0")

    unfinished = _kill_repeatedly(config, pg_db, tmp_path, kills=8, total=1500)

    assert unfinished >= 5
    assert pg_rows(pg_db, "SELECT count(*), count(DISTINCT (k1, k2)) FROM t") == [(1500, 1500)]
    mapping = table_mapping("t", [tuple(c) for c in columns], ("k1", "k2"))  # type: ignore[misc]
    job = CopyJob("kill-test", Endpoints(mysql_endpoint(mariadb_db), pg_endpoint(pg_db)), CopySpec())
    (check,) = await validate(job, [mapping], checksum=True)
    assert check.ok and check.checksum_match
