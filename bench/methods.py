"""The copy methods the benchmark times, each a child process: Ferry and its anchors.

PostgreSQL → PostgreSQL anchors are `../shared/bench/anchors.sh` (called, not copied);
MariaDB → PostgreSQL with pgloader is `bench/anchors-mariadb.sh`. Ferry is `ferry run` on a
bundle: the same code path as the worker (plan, tables without keys, `run_units` with a
checkpoint commit per batch, keys after). Each child is reaped with wait4 for its peak RSS
and CPU time, and the servers' CPU time over the run is read from /proc; a method whose tool
is missing is reported as not run, with the reason.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from bench.ferry_bundle import write_bundle
from bench.server_cpu import cpu_spent, server_cpu
from bench.servers import (
    TABLES,
    Servers,
    create_pg_database,
    drop_pg_database,
    pg_counts,
    pg_execute,
    pg_primary_keys,
)

BENCH_DIR = Path(__file__).resolve().parent
REPO = BENCH_DIR.parent
SHARED_BENCH = Path(os.environ.get("FERRY_SHARED", REPO.parent / "shared")) / "bench"

Family = Literal["pg", "maria"]


@dataclass
class Context:
    servers: Servers
    workdir: Path
    pg_source: str
    maria_source: str | None
    expected: dict[str, int]  # rows per table in the source
    parallelism: int
    batch_size: int | None


@dataclass(frozen=True)
class Method:
    name: str
    family: Family
    needs: str  # executable that must be on PATH
    what: str
    argv: Callable[[Context, str], list[str]]
    target_schema: Callable[[Context], str] = lambda ctx: "public"


@dataclass
class Outcome:
    method: str
    run: int
    ok: bool
    seconds: float | None = None
    rows: int = 0
    peak_rss_mb: float | None = None
    cpu_seconds: float | None = None
    error: str | None = None
    server_cpu_seconds: dict[str, float] = field(default_factory=dict)  # what the method cost each server

    @property
    def rows_per_second(self) -> float | None:
        return self.rows / self.seconds if self.ok and self.seconds else None


def _anchor(method: str) -> Callable[[Context, str], list[str]]:
    def argv(ctx: Context, target: str) -> list[str]:
        uri = ctx.servers.pg_uri
        return ["bash", str(SHARED_BENCH / "anchors.sh"), method, uri(ctx.pg_source), uri(target), *TABLES]

    return argv


def _ferry_bin() -> str:
    script = Path(sys.executable).parent / "ferry"
    return str(script) if script.exists() else (shutil.which("ferry") or "ferry")


def _ferry(engine: str) -> Callable[[Context, str], list[str]]:
    def argv(ctx: Context, target: str) -> list[str]:
        source = ctx.pg_source if engine == "postgresql" else ctx.maria_source
        assert source is not None
        bundle = write_bundle(
            ctx.workdir / f"bundle-{target}.yaml", ctx.servers, engine, source, target,
            parallelism=ctx.parallelism, batch_size=ctx.batch_size,
        )  # fmt: skip
        return [_ferry_bin(), "run", "-f", str(bundle), "--no-progress"]

    return argv


def _pgloader_maria(ctx: Context, target: str) -> list[str]:
    assert ctx.maria_source is not None
    script = BENCH_DIR / "anchors-mariadb.sh"
    return ["bash", str(script), ctx.servers.maria_uri(ctx.maria_source), ctx.servers.pg_uri(target)]


METHODS = {
    m.name: m
    for m in (
        Method("pipe-seq", "pg", "psql", "psql binary COPY | COPY, tables in turn", _anchor("pipe-seq")),
        Method("pipe-par", "pg", "psql", "psql binary COPY | COPY, both tables at once", _anchor("pipe-par")),
        Method("pgcopydb", "pg", "pgcopydb", "pgcopydb clone, 2 table + 2 index jobs", _anchor("pgcopydb")),
        Method("pgloader", "pg", "pgloader", "pgloader pgsql→pgsql, prefetch 10000", _anchor("pgloader")),
        Method("ferry", "pg", "psql", "ferry run, PostgreSQL → PostgreSQL", _ferry("postgresql")),
        Method(
            "maria-pgloader", "maria", "pgloader", "pgloader mysql→pgsql, prefetch 10000", _pgloader_maria,
            target_schema=lambda ctx: ctx.maria_source or "public",
        ),
        Method("maria-ferry", "maria", "mariadb", "ferry run, MariaDB → PostgreSQL", _ferry("mariadb")),
    )
}  # fmt: skip


def _reap(proc: subprocess.Popen[bytes], timeout: float) -> tuple[int, float, float]:
    """Wait for the child; returns (exit status, peak RSS MiB, CPU seconds) of it and its descendants."""
    deadline = time.monotonic() + timeout
    while True:
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return proc.returncode, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime
        if time.monotonic() > deadline:
            proc.kill()
        time.sleep(0.02)


def run_method(ctx: Context, method: Method, run: int, timeout: float) -> Outcome:
    if shutil.which(method.needs) is None:
        return Outcome(
            method.name, run, False, error=f"{method.needs} is not installed (bench/install-anchors.sh)"
        )
    if method.family == "maria" and ctx.maria_source is None:
        return Outcome(method.name, run, False, error="no MariaDB dataset")
    target = f"bench_{method.name.replace('-', '_')}_{run}"
    create_pg_database(ctx.servers, target)
    # Start every method from the same server state: without this, the dirty buffers and WAL
    # of the previous method (pgloader's, say) are flushed by a checkpoint during the next one.
    pg_execute(ctx.servers, "CHECKPOINT")
    try:
        argv = method.argv(ctx, target)
        log = ctx.workdir / f"{target}.log"
        with log.open("wb") as out:
            servers_before = server_cpu(ctx.servers)
            start = time.perf_counter()
            proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, cwd=ctx.workdir)
            code, rss, cpu = _reap(proc, timeout)
            seconds = time.perf_counter() - start
            servers_after = server_cpu(ctx.servers)
        spent = cpu_spent(servers_before, servers_after)
        if code != 0:
            tail = log.read_text(errors="replace").strip().splitlines()[-5:]
            return Outcome(
                method.name, run, False, seconds, 0, rss, cpu, f"exit {code}: " + " | ".join(tail), spent
            )
        schema = method.target_schema(ctx)
        counts = pg_counts(ctx.servers, target, schema)
        rows = sum(counts.values())
        if counts != ctx.expected:
            return Outcome(
                method.name,
                run,
                False,
                seconds,
                rows,
                rss,
                cpu,
                f"row counts {counts} != {ctx.expected}",
                spent,
            )
        keys = pg_primary_keys(ctx.servers, target, schema)
        if keys != len(TABLES):
            return Outcome(
                method.name, run, False, seconds, rows, rss, cpu, f"{keys} primary keys after the copy", spent
            )
        return Outcome(method.name, run, True, seconds, rows, rss, cpu, server_cpu_seconds=spent)
    finally:
        drop_pg_database(ctx.servers, target)
