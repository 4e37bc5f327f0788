"""A multi-table copy at parallelism 2, SIGKILLed at 22 random points and run again each time:
it converges with every table's rows and checksum equal to the source's, none twice.

`ferry run` is the copy of the worker pods in one process (the same planner, target preparation,
copy runner with its per-batch checkpoints, and completion); at parallelism 2 two units copy at
once, so most kills interrupt two batches in flight. Why not 22 killed pods of one Job: the Job
controller delays a replacement pod by 10 s, doubling with each failure (up to 6 min), and a
Job fails after `spec.job.backoffLimit` failed pods (default 6, then the next attempt); pod kills
are proven by tests/e2e (a killed and an evicted pod). The points are chosen by a seeded random
source (printed; replay with FERRY_FAULT_SEED=<seed>); marked `faults`, so not in `make test`.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from harness.databases import Database
from harness.datasets import add_generated_table
from integration.copy.helpers import pg_rows

pytestmark = pytest.mark.faults

TABLES = {"readings": 30_000, "samples": 20_000, "events": 20_000}
KILLS = 22
CHECKPOINTS = (
    "SELECT coalesce(sum(rows_copied), 0), count(*), coalesce(bool_and(done), false) "
    "FROM ferry._ferry_checkpoints"
)
TOTAL = sum(TABLES.values())


def _bundle(source: Database, target: Database) -> str:
    # 2000 rows/s across both units: about 35 s of copying, so the kills land in it.
    return textwrap.dedent(f"""\
        apiVersion: v1
        kind: Secret
        metadata: {{name: src-creds}}
        stringData: {{username: {source.user}, password: {source.password}}}
        ---
        apiVersion: v1
        kind: Secret
        metadata: {{name: dst-creds}}
        stringData: {{username: {target.user}, password: {target.password}}}
        ---
        apiVersion: ferry.dev/v1alpha1
        kind: DatabaseConnection
        metadata: {{name: src}}
        spec: {{engine: postgresql, host: {source.host}, port: {source.port}, database: {source.name},
               credentialsSecretRef: {{name: src-creds}}, readOnly: true}}
        ---
        apiVersion: ferry.dev/v1alpha1
        kind: DatabaseConnection
        metadata: {{name: dst}}
        spec: {{engine: postgresql, host: {target.host}, port: {target.port}, database: {target.name},
               credentialsSecretRef: {{name: dst-creds}}}}
        ---
        apiVersion: ferry.dev/v1alpha1
        kind: Migration
        metadata: {{name: kills}}
        spec:
          source: {{connectionRef: {{name: src}}}}
          target: {{connectionRef: {{name: dst}}, schema: public}}
          tables: {{include: [{", ".join(TABLES)}]}}
          copy: {{batchSize: 250, parallelism: 2, throttle: {{rowsPerSecond: 2000}}}}
          validation: {{rowCount: true, checksum: true}}
        """)


def _run(bundle: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "ferry.cli.main", "run", "-f", str(bundle), "--no-progress"],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip


def _progress(target: Database) -> tuple[int, int, bool]:
    try:
        rows, units, done = pg_rows(target, CHECKPOINTS)[0]
    except Exception:  # the checkpoint table is not there yet: killed before the copy began
        return 0, 0, False
    return int(rows), int(units), bool(done)


def _digest(db: Database, table: str) -> tuple[int, int, str]:
    [(rows, keys, md5)] = pg_rows(
        db, f"SELECT count(*), count(DISTINCT id), md5(string_agg(t::text, '|' ORDER BY id)) FROM {table} t"
    )
    return int(rows), int(keys), str(md5)


def test_a_parallel_multi_table_copy_killed_at_22_random_points_converges_exactly(
    pg_db: Database, pg_db2: Database, tmp_path: Path
) -> None:
    seed = int(os.environ.get("FERRY_FAULT_SEED") or random.SystemRandom().randrange(1 << 32))
    print(f"\nworker kills: FERRY_FAULT_SEED={seed}")
    rng = random.Random(seed)
    for table, rows in TABLES.items():
        add_generated_table(pg_db, rows, table)
    bundle, log = tmp_path / "bundle.yaml", tmp_path / "runs.log"
    bundle.write_text(_bundle(pg_db, pg_db2))

    points: list[tuple[float, int, int]] = []
    for _ in range(KILLS):
        run = _run(bundle, log)
        delay = rng.uniform(2.0, 6.0)  # a run plans for 2-4 s here before it copies
        time.sleep(delay)
        os.killpg(run.pid, signal.SIGKILL)
        run.wait()
        rows, units, done = _progress(pg_db2)
        points.append((round(delay, 2), rows, units))
        assert not done or rows == TOTAL
    # A kill that landed while rows were copied left more rows checkpointed than the one before.
    advanced = [b for a, b in zip([(0, 0, 0), *points], points, strict=False) if a[1] < b[1] < TOTAL]
    print(f"kills (delay s, rows checkpointed, units): {points}; {len(advanced)} while rows were copied")

    final = _run(bundle, log)
    assert final.wait(timeout=300) == 0, log.read_text()[-3000:]
    assert len(advanced) >= KILLS // 4, f"only {len(advanced)} kills landed while rows were copied: {points}"
    for table in TABLES:
        got, want = _digest(pg_db2, table), _digest(pg_db, table)
        assert got[0] == got[1], f"{table}: {got[0] - got[1]} duplicate rows"
        assert got == want, (
            f"{table}: {got[:2]} rows on the target, {want[:2]} on the source (or checksums differ)"
        )
    rows, _, done = _progress(pg_db2)
    assert (rows, done) == (TOTAL, True)
