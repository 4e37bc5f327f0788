"""The validation scenario of `make bench`: validation time next to copy time, same table, same run.

    PYTHONPATH=tests:operator python -m bench.validation [--scale 0.1] [--parallelism 2]
                                                         [--engines postgresql,mariadb]

For each source engine, the benchmark's `orders` table (5M rows at scale 1.0) is copied into a
fresh PostgreSQL database by `ferry run` (copy.parallelism, validation off), then validated with
row counts and checksums twice: as the validation Job does it, `parallelism` processes each
comparing its share of the key ranges and storing the results on the target
(bench.validation_pod, ferry.services.validation.validate_share), and as `ferry run` does it, in
one process (`parallelism` ranges at once). Times are wall-clock seconds of the processes,
start-up and schema reflection included, as for the copy; `cpu_seconds` says what each server
and Ferry's own processes spent in each. Before the copy and before validation the bench waits
until the servers are idle (`settle_seconds`): after a dataset load a server may still be writing
the loaded pages out or vacuuming them, work that would be counted in whatever ran next. Goal
(issue 14): validation at most 0.5x the copy's time at parallelism 2.

The paths measured: PostgreSQL's copy is checksummed by the two servers alone
(ferry.copy.validate_pushdown); MariaDB's by the servers too, the JSON `payload` included as its
text against jsonb's (ferry.copy.validate_pushdown_mysql; the payload was loaded from the jsonb's
text, so no document needs rendering in Python: see docs/benchmark.md for the rendered case).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psycopg

from bench.ferry_bundle import write_bundle
from bench.mariadb_dataset import load_mariadb_dataset
from bench.methods import SHARED_BENCH, _ferry_bin
from bench.server_cpu import cpu_spent, server_cpu, wait_until_idle
from bench.servers import (
    Servers,
    create_pg_database,
    drop_pg_database,
    load_pg_dataset,
    pg_execute,
    start_servers,
)

TABLE = "orders"
SOURCE_DB = "bench_src"


REPO = Path(__file__).resolve().parents[1]
# The pods import bench, harness and ferry wherever they run.
PYTHONPATH = os.pathsep.join(str(REPO / p) for p in ("", "tests", "operator"))


def _cpu_now(servers: Servers) -> dict[str, float]:
    """Cumulative CPU seconds of each server and of this process's ended children (Ferry's)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {**server_cpu(servers), "ferry": children.ru_utime + children.ru_stime}


def _timed(argvs: list[list[str]], cwd: Path, servers: Servers) -> tuple[float, list[str], dict[str, float]]:
    """Run the commands at once; the wall time until the last ends, their outputs, and the CPU
    seconds the servers and the commands spent meanwhile."""
    env = {**os.environ, "PYTHONPATH": PYTHONPATH}
    before = _cpu_now(servers)
    start = time.perf_counter()
    procs = [
        subprocess.Popen(a, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd, env=env) for a in argvs
    ]
    outs = []
    for proc in procs:
        out, err = proc.communicate()
        if proc.returncode != 0:
            said = (err.decode()[-800:] + out.decode()[-800:]).strip()  # ferry run reports on stdout
            raise RuntimeError(f"{' '.join(proc.args)} exited {proc.returncode}: {said}")  # type: ignore[arg-type]
        outs.append(out.decode())
    return time.perf_counter() - start, outs, cpu_spent(before, _cpu_now(servers))


def _stored(servers: Servers, target: str, run: int) -> tuple[int, int, int]:
    """(ranges, rows, ranges that differ) the pods stored for `run`."""
    with psycopg.connect(servers.pg_uri(target)) as conn:
        row = conn.execute(
            "SELECT count(*), coalesce(sum(source_rows), 0), count(*) FILTER (WHERE NOT ("
            "source_rows = target_rows AND coalesce(checksum_match, 1) = 1)) "
            "FROM ferry._ferry_validation WHERE run = %s AND part >= 0", (run,),
        ).fetchone()  # fmt: skip
    assert row is not None
    return int(row[0]), int(row[1]), int(row[2])


def _vacuumed(servers: Servers, target: str) -> tuple[float, dict[str, float]]:
    """VACUUM (ANALYZE) of the copied table: its wall time and the servers' CPU."""
    before, start = _cpu_now(servers), time.perf_counter()
    pg_execute(servers, f"VACUUM (ANALYZE) {TABLE}", target)
    return time.perf_counter() - start, cpu_spent(before, _cpu_now(servers))


def run_engine(
    servers: Servers, engine: str, source_db: str, parallelism: int, workdir: Path, vacuum: bool = False
) -> dict[str, Any]:
    target = f"bench_validation_{engine}"
    create_pg_database(servers, target)
    pg_execute(servers, "CHECKPOINT")
    try:
        bundle = write_bundle(workdir / f"validation-{engine}.yaml", servers, engine, source_db, target,
                              parallelism=parallelism, batch_size=None, tables=(TABLE,))  # fmt: skip
        copy = [_ferry_bin(), "run", "-f", str(bundle), "--no-progress"]
        settled = [wait_until_idle(servers)]  # the dataset's load still being written out, at first
        copy_seconds, _, copy_cpu = _timed([copy], workdir, servers)
        vacuum_seconds, vacuum_cpu = _vacuumed(servers, target) if vacuum else (None, None)
        pg_execute(servers, "CHECKPOINT")
        settled.append(wait_until_idle(servers))
        pod = [sys.executable, "-m", "bench.validation_pod", str(bundle)]
        job_seconds, outs, job_cpu = _timed(
            [[*pod, str(i), str(parallelism), "1"] for i in range(parallelism)], workdir, servers
        )
        ranges, rows, differ = _stored(servers, target, 1)
        local_seconds, (local,), local_cpu = _timed([[*pod, "local"]], workdir, servers)
        local_report = json.loads(local.strip().splitlines()[-1])
        return {
            "engine": engine,
            "table": TABLE,
            "rows": rows,
            "copy_seconds": round(copy_seconds, 2),
            "validation_job_seconds": round(job_seconds, 2),
            "validation_job_compare_seconds": [
                round(json.loads(o.strip().splitlines()[-1])["seconds"], 2) for o in outs
            ],
            "validation_local_seconds": round(local_seconds, 2),
            "ratio_job_to_copy": round(job_seconds / copy_seconds, 2),
            "ratio_local_to_copy": round(local_seconds / copy_seconds, 2),
            # With --vacuum: the copied table vacuumed before validating (not counted in either)
            "vacuum_seconds": None if vacuum_seconds is None else round(vacuum_seconds, 2),
            # Waited for the servers to fall idle before the copy and before validation (not counted)
            "settle_seconds": [round(s, 1) for s in settled],
            "ranges": ranges,
            "ranges_differing": differ,
            "local_ok": local_report["ok"],
            # CPU seconds each server and Ferry's processes spent (PostgreSQL: source and target
            # are one server when both are PostgreSQL): where the time went on two shared cores
            "cpu_seconds": {
                "copy": copy_cpu,
                "validation_job": job_cpu,
                "validation_local": local_cpu,
                **({"vacuum": vacuum_cpu} if vacuum_cpu else {}),
            },
        }
    finally:
        drop_pg_database(servers, target)


def run_validation(
    servers: Servers, engines: list[str], parallelism: int, source_db: str = SOURCE_DB, vacuum: bool = False
) -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="ferry-bench-validation-") as work:
        return [run_engine(servers, e, source_db, parallelism, Path(work), vacuum) for e in engines]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.validation", description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=0.1, help="dataset scale (1.0: orders 5M rows)")
    parser.add_argument("--parallelism", type=int, default=2)
    parser.add_argument("--engines", default="postgresql,mariadb")
    parser.add_argument("--output", type=Path, default=None, help="write the results as JSON here")
    vacuum_help = "VACUUM (ANALYZE) the copied table before validating it (timed apart)"
    parser.add_argument("--vacuum", action="store_true", help=vacuum_help)
    runs_help = "copy and validate this many times on one dataset load (run to run, times vary by a tenth)"
    parser.add_argument("--runs", type=int, default=1, help=runs_help)
    args = parser.parse_args(argv)
    engines = [e for e in args.engines.split(",") if e]
    servers = start_servers("mariadb" in engines)
    try:
        load_pg_dataset(servers, SOURCE_DB, args.scale, SHARED_BENCH / "dataset.sql")
        if "mariadb" in engines:
            load_mariadb_dataset(servers, SOURCE_DB, SOURCE_DB)
        results = [
            {**result, "run": run}
            for run in range(1, args.runs + 1)
            for result in run_validation(servers, engines, args.parallelism, vacuum=args.vacuum)
        ]
    finally:
        servers.stop()
    doc = {"scale": args.scale, "parallelism": args.parallelism, "validation": results}
    print(json.dumps(doc, indent=2))
    if args.output:
        args.output.write_text(json.dumps(doc, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
