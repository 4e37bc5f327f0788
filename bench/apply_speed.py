"""The apply side of online migrations against PostgreSQL's own logical replication apply.

    PYTHONPATH=tests:operator python -m bench.apply_speed [--rows 100000] [--changes 100000]
                                                        [--per-txn 5] [--rate 1000] [--seconds 20]

One durable PostgreSQL 15 server (fsync on, wal_level logical), a table of `--rows` rows in three
databases, and one OLTP-like workload of `--changes` changes (60% updates, 25% inserts, 15%
deletes; `--per-txn` changes per source transaction):

- native: the workload runs on the source with its subscription disabled; the time is from
  enabling it until a marker row committed last is on the subscriber (decoding, sending and
  applying, one subscriber transaction per source transaction, PostgreSQL's defaults).
- ferry: the same changes, as pgoutput would hand them over (text values), fed to
  `ferry.cdc.follower.follow` from memory; the time is until it reports the cutover at the last
  position. This is the applier alone: decoding belongs to the capture (ferry.cdc.pg_capture).
- lag: the changes released at `--rate` changes/s for `--seconds`, with their commit times; the
  follower's lag_seconds as it reports them (now minus the oldest unapplied commit), and for
  every transaction the time from its release until the source is told it is committed.

The server shares the machine with the benchmark (and anything else running there): each side
runs `--runs` times in alternating order into fresh databases, and the best run counts.

Both targets end with the same rows (checked).
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import psycopg

from ferry.cdc import bookkeeping
from ferry.cdc.changes import (
    AppliedPosition,
    CaptureKind,
    ChangeKind,
    Position,
    RowChange,
    SourceLag,
    SourceTransaction,
)
from ferry.cdc.follower import FollowSettings, follow
from ferry.cdc.progress import ReplicationProgress
from ferry.copy.endpoints import PgConnection, PgEndpoint
from ferry.schema.mapping import ColumnMapping, TableMapping
from harness.databases import LOGICAL, SUPERUSER_PASSWORD, Database, PostgresServer

DURABLE = {
    **LOGICAL,
    "fsync": "on",
    "synchronous_commit": "on",
    "full_page_writes": "on",
    "max_wal_size": "4GB",
}
TABLE = "CREATE TABLE t (id bigint PRIMARY KEY, a integer, b text, c timestamptz, d numeric(12,2))"
COLUMNS = (("id", "bigint"), ("a", "integer"), ("b", "text"), ("c", "timestamptz"), ("d", "numeric(12,2)"))
MAPPING = TableMapping(
    "public", "t", "public", "t", tuple(ColumnMapping(n, n, t, t, n != "id") for n, t in COLUMNS), ("id",)
)


@dataclass
class Workload:
    transactions: list[SourceTransaction]
    sql: list[str]  # one source transaction each


def _row(key: int, rnd: random.Random) -> dict[str, object]:
    return {
        "id": str(key),
        "a": str(rnd.randint(0, 10**6)),
        "b": f"text {rnd.random():.12f} " * 4,
        "c": f"2024-0{rnd.randint(1, 9)}-1{rnd.randint(0, 9)} 10:{rnd.randint(10, 59)}:00+00",
        "d": f"{rnd.randint(0, 10**6)}.{rnd.randint(10, 99)}",
    }


def _literal(value: object) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def workload(rows: int, changes: int, per_txn: int, seed: int = 1) -> Workload:
    rnd = random.Random(seed)
    live = list(range(1, rows + 1))
    next_key = rows + 1
    transactions, sql = [], []
    lsn = 1_000_000
    for _ in range(0, changes, per_txn):
        batch: list[RowChange] = []
        statements = []
        for _ in range(per_txn):
            roll = rnd.random()
            if roll < 0.25 or not live:
                row = _row(next_key, rnd)
                live.append(next_key)
                next_key += 1
                batch.append(RowChange(("public", "t"), ChangeKind.INSERT, new=row))
                statements.append(f"INSERT INTO t VALUES ({', '.join(_literal(v) for v in row.values())})")
            elif roll < 0.85:
                key = live[rnd.randrange(len(live))]
                row = _row(key, rnd)
                batch.append(RowChange(("public", "t"), ChangeKind.UPDATE, new=row))
                sets = ", ".join(f"{k} = {_literal(v)}" for k, v in row.items() if k != "id")
                statements.append(f"UPDATE t SET {sets} WHERE id = {key}")
            else:
                key = live.pop(rnd.randrange(len(live)))
                batch.append(RowChange(("public", "t"), ChangeKind.DELETE, old={"id": str(key)}))
                statements.append(f"DELETE FROM t WHERE id = {key}")
        lsn += 200
        transactions.append(SourceTransaction(Position(lsn, 0, f"0/{lsn:X}"), None, batch))
        sql.append("BEGIN; " + "; ".join(statements) + "; COMMIT;")
    return Workload(transactions, sql)


@dataclass
class MemorySource:
    """A ChangeSource over transactions in memory; `rate` (changes/s) releases them over time,
    each with the moment it was released as its commit time."""

    transactions: list[SourceTransaction]
    rate: float | None = None
    kind: CaptureKind = "pgoutput"
    started: float = field(default_factory=time.monotonic)
    next: int = 0
    released: list[datetime] = field(default_factory=list)
    confirmed: int = 0
    latencies: list[float] = field(default_factory=list)  # seconds from release to confirmation

    def _available(self) -> int:
        if self.rate is None:
            return len(self.transactions)
        per_txn = len(self.transactions[0].changes)
        due = int((time.monotonic() - self.started) * self.rate / per_txn) + 1
        while len(self.released) < min(due, len(self.transactions)):
            self.released.append(datetime.now(UTC))
        return min(due, len(self.transactions))

    async def read(
        self, after: AppliedPosition, max_changes: int, wait_seconds: float
    ) -> list[SourceTransaction]:
        deadline = time.monotonic() + wait_seconds
        while self._available() <= self.next and time.monotonic() < deadline:
            await asyncio.sleep(0.005)
        out: list[SourceTransaction] = []
        count = 0
        while self.next < self._available() and count < max_changes:
            txn = self.transactions[self.next]
            at = self.released[self.next] if self.rate is not None else datetime.now(UTC)
            out.append(SourceTransaction(txn.position, at, txn.changes))
            count += len(txn.changes)
            self.next += 1
        return out

    async def confirm(self, applied: AppliedPosition) -> None:
        """Confirmed once committed: the time since each transaction up to here was released."""
        now = datetime.now(UTC)
        while self.confirmed < self.next and self.transactions[self.confirmed].position <= applied.position:
            if self.rate is not None:
                self.latencies.append((now - self.released[self.confirmed]).total_seconds())
            self.confirmed += 1

    async def lag(self, applied: AppliedPosition) -> SourceLag:
        return SourceLag(self.transactions[-1].position, None)

    async def details(self) -> Mapping[str, str]:
        return {}

    async def close(self) -> None:
        return None


def _load(server: PostgresServer, name: str, rows: int) -> Database:
    db = server.create_database(name)
    with psycopg.connect(db.libpq_dsn(), autocommit=True) as conn:  # the owner's table, as a target's
        conn.execute(TABLE)
        rnd = random.Random(0)
        with conn.cursor().copy("COPY t FROM STDIN") as copy:
            for key in range(1, rows + 1):
                copy.write_row(list(_row(key, rnd).values()))
    return db


def native(server: PostgresServer, source: Database, target: Database, work: Workload) -> float:
    with server.admin(source.name) as conn:
        conn.execute("CREATE TABLE marker (id int PRIMARY KEY)")
        conn.execute("CREATE PUBLICATION bench FOR TABLE t, marker")
        conn.execute("SELECT pg_create_logical_replication_slot('bench', 'pgoutput')")
    with server.admin(target.name) as conn:
        conn.execute("CREATE TABLE marker (id int PRIMARY KEY)")
        dsn = f"host={server.host} port={server.port} dbname={source.name} user=postgres"
        dsn += f" password={SUPERUSER_PASSWORD}"
        conn.execute(
            f"CREATE SUBSCRIPTION bench CONNECTION '{dsn}' PUBLICATION bench "  # type: ignore[arg-type]
            "WITH (create_slot = false, slot_name = 'bench', copy_data = false, enabled = false)"
        )
    with server.admin(source.name) as conn:
        for i in range(0, len(work.sql), 500):
            conn.execute(" ".join(work.sql[i : i + 500]))  # type: ignore[arg-type]
        conn.execute("INSERT INTO marker VALUES (1)")
    with server.admin(target.name) as conn:
        started = time.monotonic()
        conn.execute("ALTER SUBSCRIPTION bench ENABLE")
        while not conn.execute("SELECT count(*) FROM marker").fetchone()[0]:  # type: ignore[index]
            time.sleep(0.01)
        took = time.monotonic() - started
        conn.execute("ALTER SUBSCRIPTION bench DISABLE")
        conn.execute("ALTER SUBSCRIPTION bench SET (slot_name = NONE)")
        conn.execute("DROP SUBSCRIPTION bench")
    with server.admin(source.name) as conn:
        conn.execute("SELECT pg_drop_replication_slot('bench')")
    return took


def _endpoint(db: Database) -> PgEndpoint:
    async def connect() -> PgConnection:
        conn: PgConnection = await asyncpg.connect(
            host=db.host, port=db.port, user=db.user, password=db.password, database=db.name
        )
        return conn

    return PgEndpoint(connect)


async def ferry(
    target: Database,
    source: MemorySource,
    uid: str,
    reports: list[ReplicationProgress],
    max_changes: int = FollowSettings.max_changes,
) -> float:
    from integration.cdc.helpers import side

    bookkeeping.record_start(side(target), uid, Position(0, 0, "0/0"))
    bookkeeping.request_cutover(side(target), uid, max_lag_seconds=3600)
    last = source.transactions[-1].position
    started = time.monotonic()
    result = await follow(
        source, _endpoint(target), [MAPPING], migration_uid=uid, source_dialect="postgresql", secrets=None,
        source_position=lambda: last, report=reports.append,
        settings=FollowSettings(max_changes=max_changes, wait_seconds=0.2, poll_seconds=0.5),
    )  # fmt: skip
    assert result.cutover_position == last, result
    return time.monotonic() - started


def _digest(server: PostgresServer, name: str) -> tuple[int, str]:
    with server.admin(name) as conn:
        row = conn.execute("SELECT count(*), md5(string_agg(t::text, ',' ORDER BY id)) FROM t").fetchone()
    assert row is not None
    return row[0], row[1]


def _checkpoint(server: PostgresServer) -> None:
    with server.admin() as conn:
        conn.execute("CHECKPOINT")


def throughput(
    server: PostgresServer, work: Workload, rows: int, runs: int, max_changes: int
) -> tuple[float, float]:
    """Best of `runs` for each, in alternating order, each into fresh databases."""
    best = {"native": float("inf"), "ferry": float("inf")}
    for run in range(runs):
        for method in ("native", "ferry") if run % 2 == 0 else ("ferry", "native"):
            target = _load(server, f"{method}_{run}", rows)
            if method == "native":
                source = _load(server, f"source_{run}", rows)
                _checkpoint(server)
                took = native(server, source, target, work)
                assert _digest(server, source.name) == _digest(server, target.name)
            else:
                _checkpoint(server)
                source = MemorySource(work.transactions)
                took = asyncio.run(ferry(target, source, f"bench/{run}", [], max_changes))
            best[method] = min(best[method], took)
    assert len({_digest(server, f"{m}_{r}") for m in ("native", "ferry") for r in range(runs)}) == 1
    return best["native"], best["ferry"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench.apply_speed", description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--changes", type=int, default=100_000)
    parser.add_argument("--per-txn", type=int, default=5)
    parser.add_argument("--runs", type=int, default=3, help="runs of each, alternating; the best counts")
    parser.add_argument("--max-changes", type=int, default=FollowSettings.max_changes, help="per batch")
    parser.add_argument("--rate", type=float, default=1000.0)
    parser.add_argument("--seconds", type=float, default=20.0)
    args = parser.parse_args(argv)
    server = PostgresServer(Path(tempfile.mkdtemp(prefix="ferry-bench-apply-")), settings=DURABLE).start()
    try:
        work = workload(args.rows, args.changes, args.per_txn)
        native_s, ferry_s = throughput(server, work, args.rows, args.runs, args.max_changes)
        print(
            f"{args.changes:,} changes in {len(work.transactions):,} transactions of {args.per_txn}, "
            f"best of {args.runs}:"
        )
        print(
            f"  native logical replication apply: {native_s:6.2f} s {args.changes / native_s:9,.0f} changes/s"
        )
        print(
            f"  ferry applier:                    {ferry_s:6.2f} s  {args.changes / ferry_s:9,.0f} changes/s"
        )
        print(f"  ferry / native throughput: {native_s / ferry_s:.2f}x")

        lag_db = _load(server, "lag", args.rows)
        count = int(args.rate * args.seconds)
        paced = MemorySource(workload(args.rows, count, args.per_txn, seed=2).transactions, rate=args.rate)
        reports: list[ReplicationProgress] = []
        took = asyncio.run(ferry(lag_db, paced, "bench/lag", reports))
        lags = [r.lag_seconds for r in reports if r.lag_seconds is not None]
        latency = sorted(paced.latencies)
        print(f"paced at {args.rate:,.0f} changes/s for {took:.1f} s:")
        print(
            f"  lag_seconds as reported: median {statistics.median(lags):.3f} s, max {max(lags):.3f} s; "
            f"release to confirmation: median {statistics.median(latency):.3f} s, "
            f"p95 {latency[int(len(latency) * 0.95)]:.3f} s, max {latency[-1]:.3f} s"
        )
    finally:
        server.stop()


if __name__ == "__main__":
    main()
