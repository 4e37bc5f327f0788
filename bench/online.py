"""The online scenario of `make bench`: Ferry's follower, with each apply method, against
PostgreSQL's native logical replication on the same server, in the same run.

    PYTHONPATH=tests:operator python -m bench.online [--backlog-tx 20000] [--lag-seconds 30]

A pgbench-like `accounts` table (100k rows) is copied into three targets before anything follows,
then three captures open at the same moment: two of Ferry's (slot + publication,
`ferry.cdc.capture`), one per apply method, and a native one (a `pgoutput` slot a subscription
takes over later; a subscription on the same server cannot create its own slot, see
../shared/notes/online.md). The targets were filled before the captures opened, so the copy's end
is the capture's start: Ferry's native method hands the whole backlog to its subscription.

1. **Throughput at saturation.** A procedure commits `--backlog-tx` transactions of 10 changes
   (8 updates, an insert, a delete) while nothing applies, then an end marker. Ferry's follower
   (a process of its own, `bench.online_follower`) applies the backlog with its own applier
   (`apply: ferry`); then a native subscription does (the anchor); then Ferry's follower with
   `apply: native` (it creates a subscription over its own slot and watches it). Each is timed
   until the end marker is visible on its target (polled every 50 ms): Ferry's applier from its
   first committed batch, the anchor from CREATE SUBSCRIPTION, Ferry-native from the moment its
   subscription is enabled (process start-up, table reflection and eligibility checks are
   reported apart). Changes/s, and the ratios to the anchor.
2. **Lag under a fixed load.** A writer commits 100 such transactions per second (1,000
   changes/s) for `--lag-seconds` while Ferry follows, once per method; every 0.5 s a tick row is
   committed on the source and its arrival on the target is timed. Reported: the ticks' lag (p50,
   p95, max), the follower's own `lagSeconds` samples, and the follower's peak RSS.

Goals (issue 12): at least 0.8x native apply throughput, lag under 2 s at 1,000 changes/s,
follower RSS under 200 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg

from bench.servers import Servers, create_pg_database, drop_pg_database, start_servers
from harness.databases import SUPERUSER_PASSWORD

SOURCE, FERRY_TARGET, NATIVE_TARGET = "online_src", "online_ferry", "online_native"
FERRY_NATIVE_TARGET = "online_ferry_native"
UID, UID_NATIVE = "bench-online", "bench-online-native"
# Per apply method of Ferry's follower: its target and its capture.
METHODS = {"ferry": (FERRY_TARGET, UID), "native": (FERRY_NATIVE_TARGET, UID_NATIVE)}
ACCOUNTS = 100_000
TABLES = ["accounts", "ticks"]
CHANGES_PER_TX = 10
END_MARKER = -1
POLL = 0.05

SOURCE_SQL = f"""
CREATE TABLE accounts (aid bigint PRIMARY KEY, bid int NOT NULL, abalance int NOT NULL, filler text);
INSERT INTO accounts SELECT g, g % 100, 0, repeat('x', 80) FROM generate_series(1, {ACCOUNTS}) g;
CREATE TABLE ticks (id bigint PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp());
CREATE SEQUENCE new_aid START {ACCOUNTS + 1};
-- One transaction of {CHANGES_PER_TX} changes per iteration: 8 updates, an insert, a delete.
CREATE PROCEDURE churn(n int) LANGUAGE plpgsql AS $$
DECLARE fresh bigint;
BEGIN
  FOR i IN 1..n LOOP
    UPDATE accounts SET abalance = abalance + 1
      WHERE aid IN (SELECT 1 + floor(random() * {ACCOUNTS})::bigint FROM generate_series(1, 8));
    fresh := nextval('new_aid');
    INSERT INTO accounts VALUES (fresh, 0, 0, 'new');
    DELETE FROM accounts WHERE aid = fresh - 50 AND aid > {ACCOUNTS};
    COMMIT;
  END LOOP;
END $$;
"""


def _log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] online: {message}", file=sys.stderr, flush=True)


def _connect(servers: Servers, db: str) -> psycopg.Connection[Any]:
    return psycopg.connect(servers.pg_uri(db), autocommit=True)


def _wait_for(servers: Servers, db: str, tick: int, timeout: float = 600) -> float:
    """Poll `db` until tick `tick` is there; returns the monotonic time it was seen."""
    deadline = time.monotonic() + timeout
    with _connect(servers, db) as conn:
        while time.monotonic() < deadline:
            if conn.execute("SELECT 1 FROM ticks WHERE id = %s", (tick,)).fetchone():
                return time.monotonic()
            time.sleep(POLL)
    raise TimeoutError(f"tick {tick} did not reach {db} within {timeout:g}s")


def _first_applied(servers: Servers, timeout: float = 120) -> float:
    """Poll Ferry's target until its follower has committed a first batch; the monotonic time.

    The follower process spends its first seconds importing, reflecting the source's tables and
    opening the slot: a one-time start-up, reported apart from the apply rate."""
    deadline = time.monotonic() + timeout
    with _connect(servers, FERRY_TARGET) as conn:
        while time.monotonic() < deadline:
            row = conn.execute(
                'SELECT changes_applied FROM ferry."_ferry_replication" WHERE migration_uid = %s', (UID,)
            ).fetchone()
            if row is not None and row[0] > 0:
                return time.monotonic()
            time.sleep(POLL / 5)
    raise TimeoutError("Ferry's follower applied nothing")


def _subscribed(servers: Servers, timeout: float = 120, running: bool = False) -> float:
    """Poll Ferry-native's target until its follower enabled its subscription (`running`: and its
    apply worker runs); the monotonic time."""
    query = "SELECT 1 FROM pg_subscription s WHERE subenabled"
    if running:
        query += " AND EXISTS (SELECT FROM pg_stat_subscription w WHERE w.subid = s.oid AND w.pid > 0)"
    deadline = time.monotonic() + timeout
    with _connect(servers, FERRY_NATIVE_TARGET) as conn:
        while time.monotonic() < deadline:
            if conn.execute(query).fetchone():  # type: ignore[arg-type]
                return time.monotonic()
            time.sleep(POLL / 5)
    raise TimeoutError("Ferry's follower created no subscription (not eligible for native apply?)")


def _prepare(servers: Servers) -> None:
    for db in (SOURCE, FERRY_TARGET, NATIVE_TARGET, FERRY_NATIVE_TARGET):
        create_pg_database(servers, db)
    with _connect(servers, SOURCE) as conn:
        conn.execute(SOURCE_SQL)  # type: ignore[arg-type]
    for target in (FERRY_TARGET, NATIVE_TARGET, FERRY_NATIVE_TARGET):
        dump = subprocess.run(["pg_dump", "-t", "accounts", "-t", "ticks", servers.pg_uri(SOURCE)],
                              check=True, capture_output=True)  # fmt: skip
        subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", servers.pg_uri(target)],
                       input=dump.stdout, check=True, stdout=subprocess.DEVNULL)  # fmt: skip


def _open_captures(servers: Servers) -> None:
    """Ferry's captures and the native slot, at the same moment (no write in between)."""
    from bench.online_follower import side
    from ferry.api.migration import MigrationSpec
    from ferry.cdc import bookkeeping
    from ferry.cdc.capture import start_capture
    from ferry.services.planning import source_mappings

    source = side(servers.pg_uri(SOURCE))
    spec = MigrationSpec.model_validate(
        {"source": {"connectionRef": {"name": "s"}}, "target": {"connectionRef": {"name": "t"}},
         "tables": {"include": TABLES}, "mode": "online"}
    )  # fmt: skip
    for db, uid in METHODS.values():
        target = side(servers.pg_uri(db))
        start = start_capture(source, source_mappings(spec, source, target), uid)
        bookkeeping.record_start(target, uid, start)
        bookkeeping.record_copy_end(target, uid, start)  # the targets were loaded before the capture
    with _connect(servers, SOURCE) as conn:
        conn.execute("CREATE PUBLICATION native_pub FOR TABLE accounts, ticks")
        conn.execute("SELECT pg_create_logical_replication_slot('native_slot', 'pgoutput')")


def _follower(
    servers: Servers, work: Path, name: str, method: str = "ferry"
) -> tuple[subprocess.Popen[str], Path]:
    stop = work / f"{name}-{method}.stop"
    db, uid = METHODS[method]
    config = {"source": servers.pg_uri(SOURCE), "target": servers.pg_uri(db), "uid": uid,
              "tables": TABLES, "stop_file": str(stop), "method": method}  # fmt: skip
    proc = subprocess.Popen([sys.executable, "-m", "bench.online_follower", json.dumps(config)],
                            stdout=subprocess.PIPE, text=True)  # fmt: skip
    return proc, stop


def _finish(proc: subprocess.Popen[str], stop: Path) -> dict[str, Any]:
    stop.touch()
    out, _ = proc.communicate(timeout=120)
    if proc.returncode != 0:
        raise RuntimeError(f"the follower exited {proc.returncode}")
    result: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    return result


def _saturation(servers: Servers, work: Path, backlog_tx: int, native_first: bool = False) -> dict[str, Any]:
    _log(f"committing a backlog of {backlog_tx} transactions ({backlog_tx * CHANGES_PER_TX} changes)")
    with _connect(servers, SOURCE) as conn:
        conn.execute("CALL churn(%s)", (backlog_tx,))  # type: ignore[arg-type]
        conn.execute("INSERT INTO ticks (id) VALUES (%s)", (END_MARKER,))
    changes = backlog_tx * CHANGES_PER_TX + 1
    _log("Ferry applies the backlog")
    proc, stop = _follower(servers, work, "saturation")
    launched = time.monotonic()
    started = _first_applied(servers)
    ended = _wait_for(servers, FERRY_TARGET, END_MARKER)
    ferry = _finish(proc, stop)
    ferry_seconds, startup = ended - started, started - launched
    rate = changes / ferry_seconds
    _log(f"Ferry: {ferry_seconds:.1f} s after a {startup:.1f} s start-up, {rate:,.0f} changes/s")

    def anchor() -> float:
        _log("native logical replication applies the same backlog")
        with _connect(servers, NATIVE_TARGET) as conn:
            started = time.monotonic()
            conn.execute(
                f"CREATE SUBSCRIPTION native_sub CONNECTION '{_libpq(servers, SOURCE)}' "
                "PUBLICATION native_pub "
                "WITH (create_slot = false, slot_name = 'native_slot', copy_data = false)"
            )  # type: ignore[arg-type]
            seconds = _wait_for(servers, NATIVE_TARGET, END_MARKER) - started
            conn.execute("ALTER SUBSCRIPTION native_sub DISABLE")
            conn.execute("ALTER SUBSCRIPTION native_sub SET (slot_name = NONE)")
            conn.execute("DROP SUBSCRIPTION native_sub")
        _log(f"native: {seconds:.1f} s, {changes / seconds:,.0f} changes/s")
        with _connect(servers, SOURCE) as conn:
            conn.execute("SELECT pg_drop_replication_slot('native_slot')")
        return seconds

    def ferry_native() -> tuple[float, float, dict[str, Any]]:
        _log("Ferry's follower with apply: native applies the same backlog")
        proc, stop = _follower(servers, work, "saturation", "native")
        launched = time.monotonic()
        started = _subscribed(servers)
        ended = _wait_for(servers, FERRY_NATIVE_TARGET, END_MARKER)
        result = _finish(proc, stop)
        if "native" not in result["methods"]:
            raise RuntimeError(f"Ferry's follower applied with {result['methods']}, not native")
        _log(f"Ferry-native: {ended - started:.1f} s after a {started - launched:.1f} s start-up, "
             f"{changes / (ended - started):,.0f} changes/s")  # fmt: skip
        return ended - started, started - launched, result

    # Which of the two goes first alternates between runs (--native-first): the one after applies
    # while the server vacuums and checkpoints after the first.
    if native_first:
        native_ferry_seconds, native_startup, ferry_native_run = ferry_native()
        native_seconds = anchor()
    else:
        native_seconds = anchor()
        native_ferry_seconds, native_startup, ferry_native_run = ferry_native()
    _check_equal(servers)
    return {
        "changes": changes,
        # The machine's 1-minute load average at the end (2 cores, shared): a run under load is noisy.
        "load_average_1m": round(os.getloadavg()[0], 1),
        "ferry_method": "ferry",
        "ferry_seconds": round(ferry_seconds, 2),
        "ferry_startup_seconds": round(startup, 2),  # process start, reflection, slot open: not in the rate
        "ferry_changes_per_second": round(changes / ferry_seconds),
        "native_seconds": round(native_seconds, 2),
        "native_changes_per_second": round(changes / native_seconds),
        "ratio_ferry_native": round(native_seconds / ferry_seconds, 2),
        "ferry_peak_rss_mb": ferry["peak_rss_mb"],
        "ferry_native_method": "native",
        "ferry_native_seconds": round(native_ferry_seconds, 2),
        "ferry_native_startup_seconds": round(native_startup, 2),  # start-up, checks, CREATE SUBSCRIPTION
        "ferry_native_changes_per_second": round(changes / native_ferry_seconds),
        "ratio_ferry_native_method_to_native": round(native_seconds / native_ferry_seconds, 2),
        "ferry_native_peak_rss_mb": ferry_native_run["peak_rss_mb"],
        "order": "ferry-native, then native" if native_first else "native, then ferry-native",
    }


def _libpq(servers: Servers, db: str) -> str:
    return f"host={servers.pg.host} port={servers.pg.port} dbname={db} user={servers.pg.superuser} " \
        f"password={SUPERUSER_PASSWORD}"  # fmt: skip


def _check_equal(servers: Servers) -> None:
    digests = []
    for db in (SOURCE, FERRY_TARGET, NATIVE_TARGET, FERRY_NATIVE_TARGET):
        with _connect(servers, db) as conn:
            row = conn.execute("SELECT count(*), md5(string_agg(a::text, ',' ORDER BY aid)) FROM accounts a")
            digests.append(row.fetchone())
    if len(set(digests)) != 1:
        raise AssertionError(f"the targets differ from the source after the backlog: {digests}")


def _paced(rate_tx: float, seconds: float, act: Callable[[int], None]) -> int:
    """Call `act(i)` `rate_tx` times per second for `seconds`; returns how many calls were made."""
    started, i = time.monotonic(), 0
    while (now := time.monotonic()) - started < seconds:
        due = started + i / rate_tx
        if due > now:
            time.sleep(due - now)
        act(i)
        i += 1
    return i


def _lag(servers: Servers, work: Path, seconds: float, method: str = "ferry") -> dict[str, Any]:
    _log(f"Ferry follows 1,000 changes/s for {seconds:g} s with apply: {method}")
    proc, stop = _follower(servers, work, "lag", method)
    target_db = METHODS[method][0]
    base = 1_000_000 * (1 + list(METHODS).index(method))  # tick ids of their own: the source is shared
    time.sleep(3)  # the follower's start-up is not lag
    if method == "native":
        _subscribed(servers, running=True)  # re-enabled by the new follower (the last one stopped it)
    # What the source committed while this capture was not followed (the other method's phase) is
    # a backlog, not lag: a marker tick, awaited before the timed phase starts.
    with _connect(servers, SOURCE) as conn:
        conn.execute("INSERT INTO ticks (id) VALUES (%s)", (base,))
    _wait_for(servers, target_db, base)
    ticks: list[float] = []

    def write() -> None:
        with _connect(servers, SOURCE) as conn:
            written = _paced(100, seconds, lambda i: conn.execute("CALL churn(1)"))
        rates.append(written * CHANGES_PER_TX / seconds)

    def tick() -> None:
        with _connect(servers, SOURCE) as source, _connect(servers, target_db) as target:

            def one(i: int) -> None:
                source.execute("INSERT INTO ticks (id) VALUES (%s)", (base + i + 1,))
                committed = time.monotonic()
                while not target.execute("SELECT 1 FROM ticks WHERE id = %s", (base + i + 1,)).fetchone():
                    time.sleep(POLL / 2)
                ticks.append(time.monotonic() - committed)

            _paced(2, seconds, one)

    rates: list[float] = []
    threads = [threading.Thread(target=write), threading.Thread(target=tick)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    follower = _finish(proc, stop)
    ticks.sort()
    own = follower["lag_samples"]
    return {
        "method": method,
        "seconds": seconds,
        "offered_changes_per_second": round(rates[0]) if rates else None,
        "tick_lag_p50_seconds": round(statistics.median(ticks), 3),
        "tick_lag_p95_seconds": round(ticks[int(0.95 * (len(ticks) - 1))], 3),
        "tick_lag_max_seconds": round(ticks[-1], 3),
        "ticks": len(ticks),
        "reported_lag_max_seconds": round(max(own), 3) if own else None,
        "follower_peak_rss_mb": follower["peak_rss_mb"],
    }


def run_online(
    servers: Servers, backlog_tx: int = 20_000, lag_seconds: float = 30, native_first: bool = False
) -> dict[str, Any]:
    """Both phases on `servers` (PostgreSQL with wal_level=logical); the JSON section of the run."""
    from ferry.cdc.capture import drop_capture

    _prepare(servers)
    with tempfile.TemporaryDirectory(prefix="ferry-bench-online-") as work:
        try:
            _open_captures(servers)
            result = {"saturation": _saturation(servers, Path(work), backlog_tx, native_first),
                      "lag": _lag(servers, Path(work), lag_seconds),
                      "lag_native_method": _lag(servers, Path(work), lag_seconds, "native")}  # fmt: skip
        finally:
            from bench.online_follower import side
            from ferry.cdc.native_apply import drop_subscription

            for db, uid in METHODS.values():
                drop_subscription(side(servers.pg_uri(db)), uid)  # left disabled by the stopped follower
                drop_capture(side(servers.pg_uri(SOURCE)), uid)
            for db in (FERRY_TARGET, NATIVE_TARGET, FERRY_NATIVE_TARGET, SOURCE):
                drop_pg_database(servers, db)
    saturation, lag, lag_native = result["saturation"], result["lag"], result["lag_native_method"]
    rss = (
        saturation["ferry_peak_rss_mb"],
        saturation["ferry_native_peak_rss_mb"],
        lag["follower_peak_rss_mb"],
        lag_native["follower_peak_rss_mb"],
    )
    worst_lag = max(lag["tick_lag_max_seconds"], lag_native["tick_lag_max_seconds"])
    result["goals"] = {
        # Met by the native method, where eligible (PostgreSQL to PostgreSQL, names kept, no transforms).
        "throughput_at_least_0.8x_native": saturation["ratio_ferry_native_method_to_native"] >= 0.8,
        "throughput_at_least_0.8x_native_ferry_method": saturation["ratio_ferry_native"] >= 0.8,
        "lag_under_2s_at_1000_changes_per_second": worst_lag < 2,
        "follower_rss_under_200mb": max(rss) < 200,
    }
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="bench.online", description=__doc__.split("\n\n")[0])
    parser.add_argument("--backlog-tx", type=int, default=20_000)
    parser.add_argument("--lag-seconds", type=float, default=30)
    parser.add_argument("--output", type=Path, default=None)
    parser.add_argument("--native-first", action="store_true", help="Ferry-native before the native anchor")
    args = parser.parse_args(argv)
    servers = start_servers(with_mariadb=False)
    try:
        result = run_online(servers, args.backlog_tx, args.lag_seconds, args.native_first)
    finally:
        servers.stop()
    text = json.dumps(result, indent=2)
    print(text)
    if args.output:
        args.output.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
