"""`make bench`: time Ferry against its anchors on the same data and servers, in one run.

    PYTHONPATH=tests python -m bench.run [--scale 1.0] [--runs 2] [--methods ferry,pipe-par,...]
                                         [--output bench/results/<timestamp>.json]

Starts throwaway PostgreSQL (fsync on) and MariaDB servers, builds `../shared/bench/dataset.sql`
at `--scale` (1.0: orders 5M + events 10M rows), loads the same rows into MariaDB, then runs
every method `--runs` times in alternating order into a fresh target database each time,
verifies row counts and primary keys, prints a table and writes JSON (docs/benchmark.md).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench.mariadb_dataset import load_mariadb_dataset
from bench.methods import METHODS, SHARED_BENCH, Context, Outcome, run_method
from bench.online import run_online
from bench.report import table, write_json
from bench.servers import TABLES, load_pg_dataset, pg_counts, start_servers
from bench.validation import run_validation

SOURCE_DB = "bench_src"
MARIA_DB = "bench_src"


def _args(argv: list[str] | None) -> argparse.Namespace:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    parser = argparse.ArgumentParser(prog="bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0, help="dataset scale (1.0: 5M + 10M rows)")
    parser.add_argument("--runs", type=int, default=2, help="runs of every method, in alternating order")
    parser.add_argument("--methods", default=",".join(METHODS), help="comma-separated: " + ", ".join(METHODS))
    parser.add_argument("--parallelism", type=int, default=2, help="Ferry's spec.copy.parallelism")
    parser.add_argument(
        "--batch-size", type=int, default=None, help="Ferry's spec.copy.batchSize (default: its own)"
    )
    parser.add_argument("--timeout", type=float, default=1800, help="seconds before a method is killed")
    parser.add_argument("--online-backlog-tx", type=int, default=20_000,
                        help="online: transactions of 10 changes in the backlog (0: skip)")  # fmt: skip
    parser.add_argument("--online-lag-seconds", type=float, default=30, help="the online lag phase's length")
    parser.add_argument("--no-validation", action="store_true",
                        help="skip the validation scenario (validation time next to copy time)")  # fmt: skip
    parser.add_argument("--output", type=Path, default=Path("bench/results") / f"{stamp}.json")
    args = parser.parse_args(argv)
    args.methods = [m.strip() for m in args.methods.split(",") if m.strip()]
    unknown = [m for m in args.methods if m not in METHODS]
    if unknown:
        parser.error(f"unknown methods: {', '.join(unknown)}")
    return args


def _machine() -> dict[str, Any]:
    cpu = next(
        (line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
         if line.startswith("model name")), platform.processor(),
    )  # fmt: skip
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout
    return {"cpus": os.cpu_count(), "cpu": cpu, "python": platform.python_version(), "commit": commit.strip()}


def _log(message: str) -> None:
    print(f"[{dt.datetime.now():%H:%M:%S}] {message}", file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(143))  # so `finally` stops the servers
    if not (SHARED_BENCH / "anchors.sh").exists():
        print(f"bench: {SHARED_BENCH}/anchors.sh not found (set FERRY_SHARED)", file=sys.stderr)
        return 1
    with_maria = any(METHODS[m].family == "maria" for m in args.methods)
    _log(f"starting servers (MariaDB: {with_maria})")
    servers = start_servers(with_maria)
    try:
        _log(f"loading the dataset at scale {args.scale}")
        load_pg_dataset(servers, SOURCE_DB, args.scale, SHARED_BENCH / "dataset.sql")
        expected = pg_counts(servers, SOURCE_DB)
        if with_maria:
            _log("loading the same rows into MariaDB")
            load_mariadb_dataset(servers, SOURCE_DB, MARIA_DB)
        outcomes: list[Outcome] = []
        with tempfile.TemporaryDirectory(prefix="ferry-bench-") as work:
            ctx = Context(servers, Path(work), SOURCE_DB, MARIA_DB if with_maria else None, expected,
                          args.parallelism, args.batch_size)  # fmt: skip
            for run in range(args.runs):
                order = args.methods if run % 2 == 0 else list(reversed(args.methods))
                for name in order:
                    load = os.getloadavg()[0]
                    outcome = run_method(ctx, METHODS[name], run, args.timeout)
                    outcomes.append(outcome)
                    took = f"{outcome.seconds:.1f} s" if outcome.seconds else "-"
                    status = "ok" if outcome.ok else f"FAILED: {outcome.error}"
                    _log(f"run {run} {name}: {took} rss {outcome.peak_rss_mb or 0:.0f} MB "
                         f"(load before {load:.1f}) {status}")  # fmt: skip
        validation = None
        if not args.no_validation:
            _log("validation scenario: validation time next to copy time (bench/validation.py)")
            engines = ["postgresql", "mariadb"] if with_maria else ["postgresql"]
            validation = run_validation(servers, engines, args.parallelism, SOURCE_DB)
        online = None
        if args.online_backlog_tx:
            _log("online scenario: Ferry's follower against native logical replication")
            online = run_online(servers, args.online_backlog_tx, args.online_lag_seconds)
    finally:
        servers.stop()
    print(table(outcomes, args.methods))
    meta = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": " ".join(["python -m bench.run", *(argv if argv is not None else sys.argv[1:])]),
        "scale": args.scale,
        "rows": expected,
        "tables": list(TABLES),
        "parallelism": args.parallelism,
        "batch_size": args.batch_size,
        "machine": _machine(),
        "methods": {m: METHODS[m].what for m in args.methods},
        "online": online,
        "validation": validation,
    }
    write_json(args.output, meta, outcomes)
    print(f"\nwrote {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
