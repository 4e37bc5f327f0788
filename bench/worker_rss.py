"""`make worker-rss`: one large table copied PostgreSQL -> PostgreSQL (or MariaDB -> PostgreSQL),
the copying process's RSS sampled over time.

    PYTHONPATH=tests:operator python -m bench.worker_rss [--rows 20000000] [--parallelism 1]
        [--source postgresql|mariadb] [--mask] [--interval 0.5]
        [--output bench/results/worker-rss-<ts>.json]

The copy is `ferry run` (the worker pods' copy runner, its batches and checkpoints, in one local
process; with parallelism 1 it is what one worker pod does). Its RSS (with any child processes)
is read from /proc every `--interval` seconds while it runs. A streaming copy keeps RSS flat:
memory is bounded by the batch, not by the table. The JSON holds the curve and its summary: RSS
at 10% of the run (after start-up and planning), at the end, the maximum, and the slope of a
least-squares line over the last 80% of the samples (MB per million rows copied).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

from bench.scenario import write_result
from harness.databases import Database, MariaDBServer, PostgresServer


def _args(argv: list[str] | None) -> argparse.Namespace:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    parser = argparse.ArgumentParser(prog="bench.worker_rss", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=20_000_000)
    parser.add_argument("--parallelism", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=None, help="unset: Ferry's default")
    parser.add_argument("--interval", type=float, default=0.5)
    parser.add_argument(
        "--mask", action="store_true", help="mask the text column: every row converted in Python (row path)"
    )
    parser.add_argument(
        "--source", choices=("postgresql", "mariadb"), default="postgresql",
        help="mariadb: the table made in MariaDB and read by its bulk reader (server-side CSV lines)",
    )  # fmt: skip
    parser.add_argument("--output", type=Path, default=Path("bench/results") / f"worker-rss-{stamp}.json")
    return parser.parse_args(argv)


def _tree_rss(pid: int) -> int:
    """RSS in bytes of a process and its children (0 once it is gone)."""
    total, pids = 0, [pid]
    children = Path(f"/proc/{pid}/task/{pid}/children")
    if children.exists():
        pids += [int(p) for p in children.read_text().split()]
    for one in pids:
        try:
            for line in Path(f"/proc/{one}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except FileNotFoundError:
            continue
    return total


def _bundle(
    path: Path, source: Database, target: Database, parallelism: int, batch: int | None, mask: bool
) -> None:
    copy: dict[str, Any] = {"parallelism": parallelism, **({"batchSize": batch} if batch else {})}
    # A transform takes the table off the COPY pass-through: each row is decoded, converted and
    # encoded again by the worker, which is where a converting copy could hold memory.
    transforms = [{"column": "note", "type": "mask", "keepLast": 4}] if mask else []
    tables: dict[str, Any] = {"include": ["readings"]}
    if transforms:
        tables["overrides"] = [{"name": "readings", "transforms": transforms}]
    docs: list[dict[str, Any]] = []
    for name, db in (("src", source), ("dst", target)):
        creds = {"username": db.user, "password": db.password}
        docs.append({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": f"{name}-creds"},
                     "stringData": creds})  # fmt: skip
        spec = {"engine": db.engine, "host": db.host, "port": db.port, "database": db.name,
                "credentialsSecretRef": {"name": f"{name}-creds"}}  # fmt: skip
        docs.append({"apiVersion": "ferry.dev/v1alpha1", "kind": "DatabaseConnection",
                     "metadata": {"name": name}, "spec": spec})  # fmt: skip
    docs.append({"apiVersion": "ferry.dev/v1alpha1", "kind": "Migration", "metadata": {"name": "rss"},
                 "spec": {"source": {"connectionRef": {"name": "src"}},
                          "target": {"connectionRef": {"name": "dst"}, "schema": "public"},
                          "tables": tables, "copy": copy,
                          "validation": {"rowCount": False, "checksum": False}}})  # fmt: skip
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False))


def _slope(points: list[tuple[float, float]]) -> float | None:
    if len(points) < 3:
        return None
    mx = sum(x for x, _ in points) / len(points)
    my = sum(y for _, y in points) / len(points)
    var = sum((x - mx) ** 2 for x, _ in points)
    return sum((x - mx) * (y - my) for x, y in points) / var if var else None


def _pg_source(pg: PostgresServer, rows: int) -> Database:
    source = pg.create_database()
    with pg.admin(source.name) as conn:
        conn.execute("CREATE TABLE readings (id bigint PRIMARY KEY, taken_at timestamptz NOT NULL, "
                     "value double precision, note text)")  # fmt: skip
        conn.execute(
            "INSERT INTO readings SELECT g, timestamptz '2020-01-01' + g * interval '1 second', g / 7.0, "
            f"md5(g::text) FROM generate_series(1, {rows}) g"
        )
        conn.execute(f'ALTER TABLE readings OWNER TO "{source.user}"')
        conn.execute("ANALYZE readings")
    return source


def _mariadb_source(maria: MariaDBServer, rows: int) -> Database:
    """The same rows made in MariaDB (its SEQUENCE engine's seq_1_to_N), timestamps as DATETIME(6)."""
    source = maria.create_database()
    with maria.admin(source.name) as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE readings (id BIGINT PRIMARY KEY, taken_at DATETIME(6) NOT NULL, "
                    "value DOUBLE, note TEXT) ENGINE=InnoDB")  # fmt: skip
        cur.execute(
            "INSERT INTO readings SELECT seq, TIMESTAMP '2020-01-01 00:00:00' + INTERVAL seq SECOND, "
            f"seq / 7.0, MD5(seq) FROM seq_1_to_{rows}"
        )
        cur.execute("ANALYZE TABLE readings")
    return source


def run(args: argparse.Namespace) -> dict[str, Any]:
    base = Path(tempfile.mkdtemp(prefix="ferry-worker-rss-"))
    pg = PostgresServer(Path(tempfile.mkdtemp(prefix="ferry-worker-rss-pg-"))).start()
    maria = (
        MariaDBServer(Path(tempfile.mkdtemp(prefix="ferry-worker-rss-maria-")))
        if args.source == "mariadb"
        else None
    )
    try:
        if maria is not None:
            maria.start()
            source = _mariadb_source(maria, args.rows)
        else:
            source = _pg_source(pg, args.rows)
        target = pg.create_database()
        bundle = base / "bundle.yaml"
        _bundle(bundle, source, target, args.parallelism, args.batch_size, args.mask)
        started = time.monotonic()
        samples: list[dict[str, float]] = []
        with (base / "run.log").open("wb") as log:
            argv = [sys.executable, "-m", "ferry.cli.main", "run", "-f", str(bundle), "--no-progress"]
            proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
            while proc.poll() is None:
                rss = _tree_rss(proc.pid)
                if rss > 2**20:  # the interpreter has started
                    samples.append(
                        {"t": round(time.monotonic() - started, 2), "rss_mb": round(rss / 2**20, 1)}
                    )
                time.sleep(args.interval)
        seconds = time.monotonic() - started
        if proc.returncode != 0:
            raise RuntimeError(
                f"ferry run failed ({proc.returncode}): {(base / 'run.log').read_text()[-2000:]}"
            )
        curve = [s["rss_mb"] for s in samples]
        tail = samples[len(samples) // 5 :]
        per_second = _slope([(s["t"], s["rss_mb"]) for s in tail])
        rows_per_second = args.rows / seconds
        return {
            "scenario": {
                "rows": args.rows,
                "parallelism": args.parallelism,
                "batch_size": args.batch_size,
                "mask": args.mask,
                "source": args.source,
            },
            "seconds": round(seconds, 1),
            "rows_per_second": round(rows_per_second),
            "rss_mb": {
                "at_10_percent": curve[len(curve) // 10] if curve else None,
                "last": curve[-1] if curve else None,
                "max": max(curve) if curve else None,
                "slope_mb_per_million_rows": round(per_second / rows_per_second * 1e6, 2)
                if per_second is not None
                else None,
            },
            "samples": samples,
            "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        }
    finally:
        pg.stop()
        if maria is not None:
            maria.stop()


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    result = run(args)
    write_result(args.output, result, "samples")
    return 0


if __name__ == "__main__":
    sys.exit(main())
