"""Hostile identifiers through `ferry run`, on every engine pair into PostgreSQL.

Schema, table and column names with quotes, semicolons, backslashes, percent signs, unicode, spaces
and reserved words are identifiers, never SQL: they arrive on the target under the same names with
the same rows, and no statement hidden in a name runs (the canary table survives). PostgreSQL keeps at most 63
bytes of a name: a longer source name (MariaDB allows 64 characters, SQLite any length) is named in
the plan, and two that would become one are a plan error naming both.
"""

from __future__ import annotations

import json
import sqlite3
import textwrap
from pathlib import Path
from typing import Any

import pytest

from ferry.cli.main import main
from harness.databases import Database
from integration.copy.helpers import mysql_exec, pg_exec, pg_rows

TABLE = 'we"ird; DROP TABLE canary;--'
# "50%s off": the MySQL and psycopg dialects double `%` for their drivers' formatting; a name must
# neither be taken for a placeholder nor arrive with its `%` doubled (the plan's DDL runs as written).
COLUMNS = (
    "id",
    "a'b",
    'c"d',
    "e\\f",
    "select",
    "with space",
    "ünï😀",
    "semi;colon --",
    "Mixed Case",
    "50%s off",
)
ROWS = [
    (i, f"'{i}'", f'"{i}"', f"\\{i}", f"s{i}", f"w {i}", f"ü{i}", f";{i}", f"M{i}", f"{i}%")
    for i in range(1, 41)
]
INDEX = "idx; DROP TABLE canary"
LONG = "l" * 70  # 70 bytes: kept as its first 63 on PostgreSQL
LONG_UNICODE = "é" * 40  # 40 characters, 80 bytes: the first 31 characters (62 bytes) are kept


def pg_quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def maria_quote(name: str) -> str:
    return "`" + name.replace("`", "``") + "`"


def maria_literal(value: int | str) -> str:
    if isinstance(value, int):
        return str(value)
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def pg_truncated(name: str) -> str:
    """What PostgreSQL keeps of a name: at most 63 bytes, never half a character."""
    data = name.encode()[:63]
    return data.decode(errors="ignore")


def _connection(name: str, db: Database | Path) -> str:
    if isinstance(db, Path):
        return f"""\
            apiVersion: ferry.dev/v1alpha1
            kind: DatabaseConnection
            metadata: {{name: {name}}}
            spec: {{engine: sqlite, database: "{db}"}}
            """
    engine = "postgresql" if db.engine == "postgresql" else "mariadb"
    return f"""\
        apiVersion: v1
        kind: Secret
        metadata: {{name: {name}-creds}}
        stringData: {{username: {db.user}, password: {db.password}}}
        ---
        apiVersion: ferry.dev/v1alpha1
        kind: DatabaseConnection
        metadata: {{name: {name}}}
        spec: {{engine: {engine}, host: {db.host}, port: {db.port}, database: {db.name},
               credentialsSecretRef: {{name: {name}-creds}}}}
        """


def bundle(tmp_path: Path, source: Database | Path, target: Database, source_schema: str = "") -> Path:
    schema = f", schema: {json.dumps(source_schema)}" if source_schema else ""
    migration = f"""\
        apiVersion: ferry.dev/v1alpha1
        kind: Migration
        metadata: {{name: hostile}}
        spec:
          source: {{connectionRef: {{name: src}}{schema}}}
          target: {{connectionRef: {{name: dst}}, schema: public}}
          schema: {{mode: create}}
          copy: {{batchSize: 7, parallelism: 2}}
          validation: {{rowCount: true, checksum: true}}
        """
    path = tmp_path / "bundle.yaml"
    parts = (_connection("src", source), _connection("dst", target), migration)
    path.write_text("---\n".join(textwrap.dedent(part) for part in parts))
    return path


def run(path: Path) -> int:
    return main(["run", "-f", str(path), "--no-progress"])


def plan(path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    capsys.readouterr()  # what ran before
    code = main(["plan", "-f", str(path), "--output", "json"])
    return code, json.loads(capsys.readouterr().out)


def target_columns(db: Database, table: str) -> list[str]:
    rows = pg_rows(
        db,
        "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public' "
        f"AND table_name = '{table.replace(chr(39), chr(39) * 2)}' ORDER BY ordinal_position",
    )
    return [r[0] for r in rows]


def target_rows(db: Database, table: str, columns: tuple[str, ...]) -> list[tuple[Any, ...]]:
    cols = ", ".join(pg_quote(c) for c in columns)
    return pg_rows(db, f"SELECT {cols} FROM public.{pg_quote(table)} ORDER BY 1")


def test_pg_to_pg_copies_hostile_names_faithfully(
    pg_db: Database, pg_db2: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    schema = 'sch"em;a ü'
    columns = ", ".join(f"{pg_quote(c)} {'integer PRIMARY KEY' if c == 'id' else 'text'}" for c in COLUMNS)
    table = f"{pg_quote(schema)}.{pg_quote(TABLE)}"
    values = ", ".join(
        "(" + ", ".join(str(v) if isinstance(v, int) else "'" + v.replace("'", "''") + "'" for v in row) + ")"
        for row in ROWS
    )
    pg_exec(
        pg_db,
        f"CREATE SCHEMA {pg_quote(schema)}",
        f"CREATE TABLE {table} ({columns})",
        f"CREATE INDEX {pg_quote('idx; DROP TABLE canary')} ON {table} ({pg_quote('select')})",
        f"INSERT INTO {table} VALUES {values}",
    )
    pg_exec(pg_db2, "CREATE TABLE canary (id int)")

    path = bundle(tmp_path, pg_db, pg_db2, schema)
    code, document = plan(path, capsys)
    assert code == 0 and document["errors"] == [], document
    assert run(path) == 0, capsys.readouterr()

    assert target_columns(pg_db2, TABLE) == list(COLUMNS)
    assert target_rows(pg_db2, TABLE, COLUMNS) == ROWS
    assert pg_rows(pg_db2, "SELECT count(*) FROM canary") == [(0,)]
    indexes = pg_rows(
        pg_db2, f"SELECT indexname FROM pg_indexes WHERE tablename = '{TABLE.replace(chr(39), chr(39) * 2)}'"
    )
    assert ("idx; DROP TABLE canary",) in indexes


def test_sqlite_to_pg_copies_hostile_and_long_names(
    pg_db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    names = (*COLUMNS, LONG, LONG_UNICODE)
    path = tmp_path / "hostile.sqlite"
    with sqlite3.connect(path) as db:
        columns = ", ".join(f"{pg_quote(c)} {'INTEGER PRIMARY KEY' if c == 'id' else 'TEXT'}" for c in names)
        db.execute(f"CREATE TABLE {pg_quote(TABLE)} ({columns})")
        db.executemany(f"INSERT INTO {pg_quote(TABLE)} VALUES ({', '.join('?' for _ in names)})",
                       [(*row, "x", "y") for row in ROWS])  # fmt: skip
    pg_exec(pg_db, "CREATE TABLE canary (id int)")

    source = bundle(tmp_path, path, pg_db)
    code, document = plan(source, capsys)
    assert code == 0 and document["errors"] == [], document
    assert run(source) == 0, capsys.readouterr()

    kept = (*COLUMNS, pg_truncated(LONG), pg_truncated(LONG_UNICODE))
    assert target_columns(pg_db, TABLE) == list(kept)
    assert target_rows(pg_db, TABLE, kept) == [(*row, "x", "y") for row in ROWS]
    assert pg_rows(pg_db, "SELECT count(*) FROM canary") == [(0,)]
    long_names = [w for w in document["warnings"] if "longer than 63 bytes" in w]
    assert len(long_names) == 2 and repr(pg_truncated(LONG)) in long_names[0], document["warnings"]
    assert repr(pg_truncated(LONG_UNICODE)) in long_names[1], document["warnings"]
    # The next plan finds the table as it was created, its columns under their kept names.
    code, again = plan(source, capsys)
    assert code == 0 and not [o for o in again["operations"] if o["kind"] == "create_table"], again
    assert not [w for w in again["warnings"] if "left as is" in w], again["warnings"]


def test_mariadb_to_pg_copies_hostile_and_long_names(
    mariadb_db: Database, pg_db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # MariaDB allows 64 characters of the Basic Multilingual Plane in a name (no emoji).
    hostile = tuple(c.replace("😀", "Ω") for c in COLUMNS)
    names = (*hostile, LONG[:64], LONG_UNICODE)
    columns = ", ".join(
        f"{maria_quote(c)} {'INT PRIMARY KEY' if c == 'id' else 'VARCHAR(40)'}" for c in names
    )
    values = ", ".join("(" + ", ".join(maria_literal(v) for v in (*row, "x", "y")) + ")" for row in ROWS)
    mysql_exec(
        mariadb_db,
        f"CREATE TABLE {maria_quote(TABLE)} ({columns}) CHARACTER SET utf8mb4",
        f"CREATE INDEX {maria_quote(INDEX)} ON {maria_quote(TABLE)} ({maria_quote('select')})",
        f"INSERT INTO {maria_quote(TABLE)} VALUES {values}",
    )
    pg_exec(pg_db, "CREATE TABLE canary (id int)")

    path = bundle(tmp_path, mariadb_db, pg_db)
    code, document = plan(path, capsys)
    assert code == 0 and document["errors"] == [], document
    assert run(path) == 0, capsys.readouterr()

    kept = (*hostile, pg_truncated(LONG[:64]), pg_truncated(LONG_UNICODE))
    assert target_columns(pg_db, TABLE) == list(kept)
    assert target_rows(pg_db, TABLE, kept) == [(*row, "x", "y") for row in ROWS]
    assert pg_rows(pg_db, "SELECT count(*) FROM canary") == [(0,)]
    long_names = [w for w in document["warnings"] if "longer than 63 bytes" in w]
    assert len(long_names) == 2, document["warnings"]


def test_names_that_truncate_to_one_are_a_plan_error_naming_both(
    pg_db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    shared = "ü" * 31  # 62 bytes: a 64th byte starts a character PostgreSQL drops
    first, second = shared + "_a" + "x" * 10, shared + "_b" + "y" * 10
    path = tmp_path / "collide.sqlite"
    with sqlite3.connect(path) as db:
        db.execute(f'CREATE TABLE t (id INTEGER PRIMARY KEY, "{first}" TEXT, "{second}" TEXT)')
        db.execute(f'CREATE TABLE "{first}" (id INTEGER PRIMARY KEY)')
        db.execute(f'CREATE TABLE "{second}" (id INTEGER PRIMARY KEY)')
    pg_exec(pg_db, "CREATE TABLE canary (id int)")
    source = bundle(tmp_path, path, pg_db)

    code, document = plan(source, capsys)

    assert code != 0
    columns = [e for e in document["errors"] if e.startswith("t: columns")]
    tables = [e for e in document["errors"] if e.startswith("public: tables and indexes")]
    assert len(columns) == 1 and repr(first) in columns[0] and repr(second) in columns[0], document
    assert len(tables) == 1 and repr(first) in tables[0] and repr(second) in tables[0], document
    assert run(source) != 0
    assert pg_rows(pg_db, "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'") == [(1,)]
