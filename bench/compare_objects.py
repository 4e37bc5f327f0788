"""`make compare`: the same database through Ferry and through the tool a user would pick instead,
compared object by object from the target's catalogs and by behaviour (issue 11).

    PYTHONPATH=tests python -m bench.compare_objects [--only pg|maria]
                                                     [--output bench/results/compare-<stamp>.json]

PostgreSQL → PostgreSQL: Pagila with seeded rows (`harness.app_datasets`) into one target with
`ferry run` and into another with `pg_dump -Fc | pg_restore`. MariaDB → PostgreSQL: the
Laravel/WordPress-shaped database of the web-app test, with `ferry run` and with pgloader
(`bench/anchors-mariadb.sh`, which puts the tables in a schema named after the database).
Each target is counted per object kind (`harness/catalog.py`), its key columns' types read
and its behaviour probed; a tool that cannot run is recorded with the reason, not skipped.
Writes JSON and prints a markdown table (docs/schema.md, "Side by side").
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from bench.ferry_bundle import write_bundle
from bench.servers import Servers, create_pg_database, start_servers
from harness.app_datasets import PAGILA_PROBES, WEB_APP_COLUMNS, WEB_APP_MARIADB, WEB_APP_PROBES, load_pagila
from harness.catalog import (
    COUNTS,
    Probe,
    column_types,
    count_objects,
    count_rows,
    definitions,
    differences,
    run_probes,
)
from harness.databases import SUPERUSER_PASSWORD, Database

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
SOURCE = "cmp_src"


@dataclass
class Target:
    """What one tool left in one target database."""

    method: str
    database: str
    schema: str
    ran: bool = False
    error: str | None = None  # why it did not run, or what it reported while running
    seconds: float | None = None
    rows: int | None = None
    counts: dict[str, int] = field(default_factory=dict)
    columns: dict[str, str] = field(default_factory=dict)
    probes: dict[str, str] = field(default_factory=dict)  # name -> ok | fails | error: ...
    definitions: dict[str, dict[str, str]] = field(default_factory=dict)  # kind -> name -> definition
    differs: dict[str, list[str]] = field(default_factory=dict)  # kind -> names not as on the source


def measure(
    servers: Servers, target: Target, probes: tuple[Probe, ...], columns: tuple[tuple[str, str], ...] = ()
) -> None:
    with servers.pg.admin(target.database) as conn:
        conn.execute(f'SET search_path = "{target.schema}", public')
        target.counts = count_objects(conn)
        target.rows = count_rows(conn)
        target.columns = column_types(conn, target.schema, columns)
        target.probes = run_probes(conn, probes)
        target.definitions = definitions(conn)


def _tool(target: Target, argv: list[str], log: Path) -> None:
    """Run one tool into `target`; a tool missing or failing is recorded in `target.error`."""
    if shutil.which(argv[0]) is None and not Path(argv[0]).exists():
        target.error = f"{argv[0]} is not installed (bench/install-anchors.sh)"
        return
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "operator"), str(REPO / "tests"),
                                                         os.environ.get("PYTHONPATH", "")])}  # fmt: skip
    start = time.perf_counter()
    with log.open("wb") as out:
        code = subprocess.run(argv, stdout=out, stderr=subprocess.STDOUT, env=env, check=False).returncode
    target.seconds = round(time.perf_counter() - start, 1)
    target.ran = True
    if code != 0:
        tail = log.read_text(errors="replace").strip().splitlines()[-6:]
        target.error = f"exit {code}: " + " | ".join(tail)


def _ferry(servers: Servers, engine: str, target: Target, work: Path) -> None:
    bundle = write_bundle(
        work / f"{target.database}.yaml", servers, engine, SOURCE, target.database,
        parallelism=2, batch_size=None, tables=None, validate=True,
    )  # fmt: skip
    argv = [sys.executable, "-m", "ferry.cli.main", "run", "-f", str(bundle), "--no-progress"]
    _tool(target, argv, work / f"{target.database}.log")


def compare_pg(servers: Servers, work: Path) -> list[Target]:
    create_pg_database(servers, SOURCE)
    pg = servers.pg
    load_pagila(Database("postgresql", pg.host, pg.port, SOURCE, pg.superuser, SUPERUSER_PASSWORD))
    source = Target("source", SOURCE, "public", ran=True)
    ferry = Target("ferry run", "cmp_pg_ferry", "public")
    dump = Target("pg_dump | pg_restore", "cmp_pg_dump", "public")
    for target in (ferry, dump):
        create_pg_database(servers, target.database)
    _ferry(servers, "postgresql", ferry, work)
    pipe = 'pg_dump -Fc -d "$1" | pg_restore -d "$2"'
    uris = [servers.pg_uri(SOURCE), servers.pg_uri(dump.database)]
    _tool(dump, ["bash", "-o", "pipefail", "-c", pipe, "pipe", *uris], work / "pg_dump.log")
    for target in (source, ferry, dump):
        measure(servers, target, PAGILA_PROBES)
    for target in (source, ferry, dump):
        target.differs = differences(source.definitions, target.definitions)
    return [source, ferry, dump]


def compare_maria(servers: Servers, work: Path) -> list[Target]:
    assert servers.maria is not None
    with servers.maria.admin() as conn, conn.cursor() as cur:
        cur.execute(f"CREATE DATABASE `{SOURCE}`")
    with servers.maria.admin(SOURCE) as conn, conn.cursor() as cur:
        for statement in WEB_APP_MARIADB:
            cur.execute(statement)
    ferry = Target("ferry run", "cmp_maria_ferry", "public")
    loader = Target("pgloader", "cmp_maria_pgloader", SOURCE)  # pgloader's schema: the source database's name
    for target in (ferry, loader):
        create_pg_database(servers, target.database)
    _ferry(servers, "mariadb", ferry, work)
    argv = (
        ["pgloader"] if shutil.which("pgloader") is None else ["bash", str(BENCH_DIR / "anchors-mariadb.sh")]
    )
    _tool(loader, [*argv, servers.maria_uri(SOURCE), servers.pg_uri(loader.database)], work / "pgloader.log")
    for target in (ferry, loader):
        measure(servers, target, WEB_APP_PROBES, WEB_APP_COLUMNS)
    return [ferry, loader]


def markdown(title: str, targets: list[Target]) -> str:
    head = f"| {title} | " + " | ".join(t.method for t in targets) + " |"
    lines = [head, "|---" * (len(targets) + 1) + "|"]

    def row(label: str, values: list[str]) -> None:
        marked = values if len(set(values)) == 1 else [f"**{v}**" for v in values]
        lines.append(f"| {label} | " + " | ".join(marked) + " |")

    row("ran", ["yes" if t.ran and not t.error else ("no" if not t.ran else "with errors") for t in targets])
    row("seconds", [str(t.seconds) if t.seconds is not None else "-" for t in targets])
    row("rows (all tables)", [str(t.rows) for t in targets])
    for kind in COUNTS:
        row(kind, [str(t.counts.get(kind, "-")) for t in targets])
    for kind in targets[0].differs:
        row(f"{kind} not as on the source", [", ".join(t.differs.get(kind, [])) or "0" for t in targets])
    for column in targets[0].columns:
        row(f"`{column}`", [t.columns.get(column, "-") for t in targets])
    for probe in targets[0].probes:
        row(probe, [t.probes.get(probe, "-") for t in targets])
    errors = [f"- {t.method}: {t.error}" for t in targets if t.error]
    return "\n".join(lines + (["", *errors] if errors else []))


def main(argv: list[str] | None = None) -> int:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    parser = argparse.ArgumentParser(prog="bench.compare_objects", description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=("pg", "maria"), default=None)
    parser.add_argument("--output", type=Path, default=Path("bench/results") / f"compare-{stamp}.json")
    args = parser.parse_args(argv)
    subprocess.run(["bash", str(BENCH_DIR / "install-anchors.sh")], check=False)
    servers = start_servers(with_mariadb=args.only != "pg")
    sections: dict[str, list[Target]] = {}
    try:
        with tempfile.TemporaryDirectory(prefix="ferry-compare-") as tmp:
            if args.only != "maria":
                sections["PostgreSQL → PostgreSQL (Pagila)"] = compare_pg(servers, Path(tmp))
            if args.only != "pg":
                sections["MariaDB → PostgreSQL (web app)"] = compare_maria(servers, Path(tmp))
    finally:
        servers.stop()
    text = "\n\n".join(markdown(title, targets) for title, targets in sections.items())
    print(text)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    result = {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "command": "make compare",
        "sections": {title: [asdict(t) for t in targets] for title, targets in sections.items()},
    }
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    args.output.with_suffix(".md").write_text(text + "\n")
    print(f"\nwrote {args.output} and {args.output.with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
