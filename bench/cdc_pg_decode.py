"""How fast the PostgreSQL change capture reads: pgbench changes through `PgChangeSource`.

    PYTHONPATH=tests:operator python -m bench.cdc_pg_decode [--transactions 50000]

Starts a throwaway PostgreSQL (the test harness's, wal_level = logical), opens a capture on the
four pgbench tables, runs pgbench's TPC-B-like script (3 updates and 1 insert per transaction)
and then reads every change the way the follower does: read up to 5000 changes, confirm, read
again. Prints, for the same changes:
- the server's decoding alone (`count(*)` over pg_logical_slot_peek_binary_changes),
- the client's pgoutput decoding alone (`ferry.cdc.pgoutput.decode` over the fetched messages),
- read + confirm through PgChangeSource (server decoding, transfer, decoding, assembly, slot advance).
A second round does the same with 100-row transactions (inserts, then updates) on one table.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import psycopg

from ferry.api.connection import DatabaseConnectionSpec
from ferry.cdc import pg_capture, pgoutput
from ferry.cdc.changes import AppliedPosition, Position
from ferry.cdc.names import capture_name
from ferry.db.credentials import Credentials
from ferry.schema.mapping import ColumnMapping, TableMapping
from ferry.services.planning import Side
from harness.databases import LOGICAL, PG_BIN, SUPERUSER_PASSWORD, Database, PostgresServer

INT, C84 = "integer", "character(84)"
PGBENCH_TABLES = {
    "pgbench_accounts": (("aid", INT), ("bid", INT), ("abalance", INT), ("filler", C84)),
    "pgbench_branches": (("bid", INT), ("bbalance", INT), ("filler", "character(88)")),
    "pgbench_tellers": (("tid", INT), ("bid", INT), ("tbalance", INT), ("filler", C84)),
    "pgbench_history": (
        ("tid", INT), ("bid", INT), ("aid", INT), ("delta", INT), ("mtime", "timestamp without time zone"),
        ("filler", "character(22)"),
    ),
}  # fmt: skip
KEYS = {"pgbench_accounts": ("aid",), "pgbench_branches": ("bid",), "pgbench_tellers": ("tid",)}


def mapping(table: str, columns: tuple[tuple[str, str], ...], key: tuple[str, ...]) -> TableMapping:
    cols = tuple(ColumnMapping(name, name, kind, kind, True) for name, kind in columns)
    return TableMapping("public", table, "public", table, cols, key)


def side_of(db: Database) -> Side:
    spec = DatabaseConnectionSpec.model_validate(
        {"engine": "postgresql", "host": db.host, "port": db.port, "database": db.name,
         "credentialsSecretRef": {"name": "bench"}}
    )  # fmt: skip
    return Side(spec, Credentials(db.user, db.password))


async def read_all(side: Side, mappings: list[TableMapping], uid: str, start: Position) -> tuple[int, float]:
    source = await pg_capture.open_source(side, mappings, uid, start)
    after, changes, began = AppliedPosition(start), 0, time.monotonic()
    try:
        while txns := await source.read(after, 5000, 0.0):
            changes += sum(len(t.changes) for t in txns)
            last = txns[-1]
            after = AppliedPosition(last.position, last.first_index + len(last.changes), last.last_chunk)
            await source.confirm(after)
        return changes, time.monotonic() - began
    finally:
        await source.close()


def measure(label: str, db: Database, mappings: list[TableMapping], uid: str, start: Position) -> None:
    slot = capture_name(uid)
    options = f"'proto_version', '1', 'publication_names', '{slot}'"
    peek = f"pg_logical_slot_peek_binary_changes('{slot}', NULL, NULL, {options})"
    with psycopg.connect(db.libpq_dsn(), autocommit=True) as conn:
        began = time.monotonic()
        row = conn.execute(f"SELECT count(*) FROM {peek}").fetchone()  # type: ignore[arg-type]
        server = time.monotonic() - began
        messages = [bytes(r[0]) for r in conn.cursor(binary=True).execute(f"SELECT data FROM {peek}")]  # type: ignore[arg-type]
    began = time.monotonic()
    for data in messages:
        pgoutput.decode(data)
    client = time.monotonic() - began
    changes, seconds = asyncio.run(read_all(side_of(db), mappings, uid, start))
    assert row is not None
    print(f"{label}:")
    print(f"  server decoding   {row[0]:>8} messages  {row[0] / server:>10,.0f} messages/s")
    print(f"  pgoutput.decode   {len(messages):>8} messages  {len(messages) / client:>10,.0f} messages/s")
    print(f"  read + confirm    {changes:>8} changes   {changes / seconds:>10,.0f} changes/s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transactions", type=int, default=50_000)
    args = parser.parse_args()
    server = PostgresServer(Path(tempfile.mkdtemp(prefix="ferry-cdc-bench-")), settings=LOGICAL).start()
    try:
        db = server.as_superuser(server.create_database())
        env = {**os.environ, "PGPASSWORD": SUPERUSER_PASSWORD}
        pgbench = [str(PG_BIN / "pgbench"), "-h", db.host, "-p", str(db.port), "-U", db.user]
        subprocess.run([*pgbench, "-i", "-s", "2", "-q", db.name], env=env, check=True, capture_output=True)
        with psycopg.connect(db.libpq_dsn(), autocommit=True) as conn:
            conn.execute("ALTER TABLE pgbench_history REPLICA IDENTITY FULL")  # it has no key
            conn.execute("CREATE TABLE accounts (LIKE pgbench_accounts INCLUDING ALL)")
        tables = [mapping(t, cols, KEYS.get(t, ())) for t, cols in PGBENCH_TABLES.items()]
        uid = str(uuid.uuid4())
        start = pg_capture.start(side_of(db), tables, uid)
        per_client = str(args.transactions // 4)
        subprocess.run([*pgbench, "-n", "-c", "4", "-j", "2", "-t", per_client, db.name], env=env, check=True)
        time.sleep(1)  # the WAL writer flushes the last commits
        measure(f"pgbench TPC-B-like, {args.transactions} transactions of 4 changes", db, tables, uid, start)
        pg_capture.drop(side_of(db), uid)

        accounts = [mapping("accounts", PGBENCH_TABLES["pgbench_accounts"], ("aid",))]
        start = pg_capture.start(side_of(db), accounts, uid)
        rows = args.transactions * 2
        with psycopg.connect(db.libpq_dsn(), autocommit=True) as conn:
            batches = range(0, rows, 100)
            for lo in batches:
                conn.execute(
                    f"INSERT INTO accounts SELECT g, 0, 0, '' FROM generate_series({lo + 1}, {lo + 100}) g"
                )  # type: ignore[arg-type]
            for lo in batches:
                conn.execute(f"UPDATE accounts SET abalance = 1 WHERE aid BETWEEN {lo + 1} AND {lo + 100}")  # type: ignore[arg-type]
        time.sleep(1)
        measure(f"{2 * rows // 100} transactions of 100 changes", db, accounts, uid, start)
        pg_capture.drop(side_of(db), uid)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
