"""SQLite as a copy source (issue 11): `ferry run` from the Chinook file into PostgreSQL, and
the engine on SQLite's dynamic typing, keys of every kind, a stop between batches and a resume."""

from __future__ import annotations

import shutil
import sqlite3
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest

from ferry.api.migration import CopySpec
from ferry.cli.main import main
from ferry.copy import CopyJob, Endpoints, ProgressEvent, SQLiteEndpoint, plan_units, run_units, validate
from harness.databases import Database
from harness.datasets import CHINOOK
from integration.copy.helpers import pg_endpoint, pg_exec, pg_rows, table_mapping

pytestmark = pytest.mark.integration

CHINOOK_TABLES = (
    "Album", "Artist", "Customer", "Employee", "Genre", "Invoice", "InvoiceLine", "MediaType",
    "Playlist", "PlaylistTrack", "Track",
)  # fmt: skip


def _bundle(path: Path, target: Database) -> str:
    return textwrap.dedent(f"""\
        apiVersion: v1
        kind: Secret
        metadata: {{name: dst-creds}}
        stringData: {{username: {target.user}, password: {target.password}}}
        ---
        apiVersion: v1
        kind: Secret
        metadata: {{name: pii}}
        stringData: {{hmac: pepper}}
        ---
        apiVersion: ferry.dev/v1alpha1
        kind: DatabaseConnection
        metadata: {{name: src}}
        spec: {{engine: sqlite, database: "{path}"}}
        ---
        apiVersion: ferry.dev/v1alpha1
        kind: DatabaseConnection
        metadata: {{name: dst}}
        spec: {{engine: postgresql, host: {target.host}, port: {target.port}, database: {target.name},
               credentialsSecretRef: {{name: dst-creds}}}}
        ---
        apiVersion: ferry.dev/v1alpha1
        kind: Migration
        metadata: {{name: chinook}}
        spec:
          source: {{connectionRef: {{name: src}}}}
          target: {{connectionRef: {{name: dst}}, schema: public}}
          schema: {{mode: create}}
          copy: {{batchSize: 400, parallelism: 2}}
          validation: {{rowCount: true, checksum: true}}
          tables:
            overrides:
              - name: Customer
                transforms: [{{column: Email, type: hash, keySecretRef: {{name: pii, key: hmac}}}}]
        """)


def _run(tmp_path: Path, text: str) -> int:
    bundle = tmp_path / "bundle.yaml"
    bundle.write_text(text)
    return main(["run", "-f", str(bundle), "--secrets-from-env", "--no-progress"])


def _source_counts(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as conn:
        return {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in CHINOOK_TABLES}


def test_run_copies_chinook_from_sqlite_and_a_rerun_copies_nothing(
    pg_db2: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "chinook.sqlite"
    shutil.copy(CHINOOK / "Chinook_Sqlite.sqlite", source)
    counts = _source_counts(source)
    text = _bundle(source, pg_db2)

    assert _run(tmp_path, text) == 0, capsys.readouterr()
    out = capsys.readouterr().out
    assert f"{sum(counts.values()):,} rows" in out and "MISMATCH" not in out, out
    assert out.count("checksum ok") == len(CHINOOK_TABLES), out
    for table, count in counts.items():
        assert pg_rows(pg_db2, f'SELECT count(*) FROM "{table}"') == [(count,)], table
    # Values as the type mapping says: NUMERIC(10,2) REALs as numeric, DATETIME text as timestamp.
    assert pg_rows(
        pg_db2, 'SELECT "Total", "InvoiceDate"::text FROM "Invoice" ORDER BY "InvoiceId" LIMIT 1'
    ) == [(Decimal("1.98"), "2021-01-01 00:00:00")]

    # The transform ran on SQLite's values (and validation's source side applied it too).
    emails = 'SELECT count(*) FROM "Customer" WHERE "Email" LIKE \'%@%\' OR length("Email") <> 64'
    assert pg_rows(pg_db2, emails) == [(0,)]

    # A rerun resumes: every unit is done, so no row is written again (no row newer than now).
    (before,) = pg_rows(pg_db2, "SELECT txid_current()")[0]
    assert _run(tmp_path, text) == 0, capsys.readouterr()
    assert "checksum ok" in capsys.readouterr().out
    for table, count in counts.items():
        assert pg_rows(
            pg_db2, f'SELECT count(*), count(*) FILTER (WHERE xmin::text::bigint > {before}) FROM "{table}"'
        ) == [(count, 0)], table

    # The identities continue after the copied ids (INTEGER PRIMARY KEY: the largest copied value).
    pg_exec(pg_db2, """INSERT INTO "Genre" ("Name") VALUES ('Zydeco')""")
    assert pg_rows(pg_db2, """SELECT "GenreId" FROM "Genre" WHERE "Name" = 'Zydeco'""") == [
        (counts["Genre"] + 1,)
    ]


# Dynamic typing: a BOOLEAN of integers, NUMERIC(10,2) of REALs, DATE and DATETIME of text, a BLOB
# holding text; keys: the rowid, text (NOCASE: batches follow it, validation sorts by bytes as
# PostgreSQL's "C" does), a composite WITHOUT ROWID key, none.
TABLES = """
CREATE TABLE items (id INTEGER PRIMARY KEY, ok BOOLEAN, price NUMERIC(10,2), day DATE, at DATETIME,
                    raw BLOB, note TEXT);
CREATE TABLE codes (code TEXT PRIMARY KEY COLLATE NOCASE, n INTEGER);
CREATE TABLE pairs (a INTEGER, b TEXT, v REAL, PRIMARY KEY (a, b)) WITHOUT ROWID;
CREATE TABLE log (line TEXT);
"""
ROWS = """
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
INSERT INTO items SELECT i * 3, i % 3, i * 0.1 + 0.2, '2024-01-01 00:00:00',
       datetime(1700000000 + i, 'unixepoch'), CASE WHEN i % 2 THEN randomblob(8) ELSE 'text ' || i END,
       CASE WHEN i % 5 THEN 'ñ' || i END FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)
INSERT INTO codes SELECT printf('%s%04d', CASE WHEN i % 2 THEN 'c' ELSE 'C' END, i), i FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 600)
INSERT INTO pairs SELECT i % 7, 'b' || i, i / 3.0 FROM n;
INSERT INTO log VALUES ('one'), ('two'), ('two');
"""
TARGET = (
    "CREATE TABLE items (id bigint PRIMARY KEY, ok boolean, price numeric(10,2), day date, at timestamp, "
    "raw bytea, note text)",
    "CREATE TABLE codes (code text PRIMARY KEY, n integer)",
    "CREATE TABLE pairs (a integer, b text, v double precision, PRIMARY KEY (a, b))",
    "CREATE TABLE log (line text)",
)
MAPPINGS = [
    table_mapping(
        "items",
        [
            ("id", "integer", "bigint"),
            ("ok", "boolean"),
            ("price", "numeric(10,2)"),
            ("day", "date"),
            ("at", "datetime", "timestamp"),
            ("raw", "blob", "bytea"),
            ("note", "text"),
        ],
        row_estimate=2000,
    ),
    table_mapping("codes", [("code", "text"), ("n", "integer")], key=("code",), row_estimate=1200),
    table_mapping(
        "pairs",
        [("a", "integer"), ("b", "text"), ("v", "real", "double precision")],
        key=("a", "b"),
        row_estimate=600,
    ),
    table_mapping("log", [("line", "text")], key=(), row_estimate=3),
]
EXPECTED = {"items": 1000, "codes": 500, "pairs": 600, "log": 3}


def _sqlite_source(tmp_path: Path) -> SQLiteEndpoint:
    path = tmp_path / "source.sqlite"
    with sqlite3.connect(path) as conn:
        conn.executescript(TABLES + ROWS)
    return SQLiteEndpoint(lambda: sqlite3.connect(path, check_same_thread=False))


async def test_a_stopped_sqlite_copy_resumes_with_exact_rows_and_checksums(
    pg_db2: Database, tmp_path: Path
) -> None:
    pg_exec(pg_db2, *TARGET)
    # Estimates over the split threshold: items split by key value, codes at key quantiles.
    spec = CopySpec(batch_size=70, split_threshold_rows=1000, parallelism=4)
    job = CopyJob("sqlite-stop", Endpoints(_sqlite_source(tmp_path), pg_endpoint(pg_db2)), spec)
    units = await plan_units(MAPPINGS, job.endpoints.source, spec)
    assert len(units) > len(MAPPINGS)
    asked = 0

    async def after_some_batches() -> bool:
        nonlocal asked
        asked += 1
        return asked > 12

    first = await run_units(job, units, should_stop=after_some_batches)
    assert "stopped" in {r.state for r in first.results} and not first.failed, first.results
    copied_first = first.rows_copied
    assert 0 < copied_first < sum(EXPECTED.values())

    deltas: list[int] = []
    second = await run_units(job, units, progress=lambda e: deltas.append(e.rows_delta))
    assert second.ok, second.failed
    # The resume copies exactly the rest: nothing twice (the keys would refuse it), nothing lost.
    assert sum(deltas) == sum(EXPECTED.values()) - copied_first
    for table, count in EXPECTED.items():
        assert pg_rows(pg_db2, f"SELECT count(*) FROM {table}") == [(count,)], table

    again: list[ProgressEvent] = []
    third = await run_units(job, units, progress=again.append)
    assert third.ok and all(e.rows_delta == 0 for e in again)

    checks = await validate(job, MAPPINGS, checksum=True, chunk_rows=90)
    assert [(c.table, c.ok, c.checksum_match) for c in checks] == [
        (m.qualified_target, True, True) for m in MAPPINGS
    ]
    # 2 is true (PostgreSQL's boolean input refuses it); 2 * 0.1 + 0.2 is the REAL 0.4000000000000001.
    assert pg_rows(pg_db2, "SELECT ok, price, day::text, raw FROM items WHERE id = 6") == [
        (True, Decimal("0.40"), "2024-01-01", b"text 2")
    ]


async def test_sqlite_to_sqlite_keeps_values_as_stored(tmp_path: Path) -> None:
    source = _sqlite_source(tmp_path)
    path = tmp_path / "target.sqlite"
    with sqlite3.connect(path) as conn:
        conn.executescript(TABLES)
    same = [
        table_mapping(
            m.source_table, [(c.source, c.source_type) for c in m.columns], m.key, target_schema=None
        )
        for m in MAPPINGS
    ]
    target = SQLiteEndpoint(lambda: sqlite3.connect(path, check_same_thread=False))
    job = CopyJob("sqlite-sqlite", Endpoints(source, target), CopySpec(batch_size=150))

    results = await run_units(job, await plan_units(same, source, job.copy))

    assert results.ok, results.failed
    checks = await validate(job, same, checksum=True)
    assert [(c.target_rows, c.checksum_match) for c in checks] == [(n, True) for n in EXPECTED.values()]
    with sqlite3.connect(path) as conn:  # stored as the source stored them: 2 stays 2
        assert conn.execute("SELECT ok, typeof(raw) FROM items WHERE id = 6").fetchall() == [(2, "text")]


async def test_an_int_key_holding_text_is_batched_by_offset_and_split_at_quantiles(tmp_path: Path) -> None:
    # `k INT PRIMARY KEY` is not the rowid: SQLite stores 'x9' as text, which sorts after every
    # number. Neither the split points nor the batch bounds may do arithmetic on it.
    ddl = "CREATE TABLE mixed (k INT PRIMARY KEY, v TEXT)"
    path, copy = tmp_path / "mixed.sqlite", tmp_path / "copy.sqlite"
    with sqlite3.connect(path) as conn:
        conn.executescript(f"""{ddl};
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 900)
            INSERT INTO mixed SELECT i, 'v' || i FROM n;
            INSERT INTO mixed VALUES ('x9', 'text'), ('x1', 'text'), (2.5, 'real');""")
    with sqlite3.connect(copy) as conn:
        conn.execute(ddl)
    mapping = table_mapping(
        "mixed", [("k", "int"), ("v", "text")], ("k",), target_schema=None, row_estimate=1200
    )
    endpoints = Endpoints(
        *(SQLiteEndpoint(lambda p=p: sqlite3.connect(p, check_same_thread=False)) for p in (path, copy))
    )
    spec = CopySpec(batch_size=100, split_threshold_rows=1000, parallelism=3)
    job = CopyJob("mixed", endpoints, spec)

    units = await plan_units([mapping], endpoints.source, spec)
    results = await run_units(job, units)

    assert len(units) == 3 and results.ok, results.failed
    (check,) = await validate(job, [mapping], checksum=True, chunk_rows=100)
    assert (check.target_rows, check.checksum_match) == (903, True)
