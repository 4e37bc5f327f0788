"""`ferry plan -f bundle.yaml` against real databases: table and JSON output, exit codes."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from conftest import DATASETS
from ferry.cli import plan as plan_cli
from harness.databases import Database
from integration.schema.loading import run_sql

pytestmark = pytest.mark.integration


def ferry(*argv: str) -> int:
    """The `plan` subcommand as `ferry` dispatches it (other subcommands are not needed here)."""
    parser = argparse.ArgumentParser(prog="ferry")
    plan_cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    code: int = args.func(args)
    return code


def connection(name: str, db: Database) -> str:
    return f"""---
apiVersion: v1
kind: Secret
metadata: {{name: {name}-creds}}
stringData: {{username: {db.user}, password: {db.password}}}
---
apiVersion: ferry.dev/v1alpha1
kind: DatabaseConnection
metadata: {{name: {name}}}
spec: {{engine: {db.engine}, host: {db.host}, port: {db.port}, database: {db.name},
       credentialsSecretRef: {{name: {name}-creds}}}}
"""


def migration(allow_destructive: bool = False) -> str:
    return f"""---
apiVersion: ferry.dev/v1alpha1
kind: Migration
metadata: {{name: move}}
spec:
  source: {{connectionRef: {{name: src}}}}
  target: {{connectionRef: {{name: dst}}}}
  schema: {{mode: diff, allowDestructive: {str(allow_destructive).lower()}}}
"""


def test_destructive_plan_is_refused_unless_allowed(
    tmp_path: Path,
    mariadb_db: Database,
    pg_db2: Database,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COLUMNS", "220")
    run_sql(
        mariadb_db,
        "CREATE TABLE item (id int PRIMARY KEY, name varchar(20) NOT NULL);\nCREATE TABLE fresh (id int);",
    )
    run_sql(pg_db2, "CREATE TABLE item (id integer PRIMARY KEY, name text NOT NULL, legacy text);")
    refused = tmp_path / "refused.yaml"
    refused.write_text(connection("src", mariadb_db) + connection("dst", pg_db2) + migration())

    assert ferry("plan", "-f", str(refused)) == 2
    out = capsys.readouterr().out
    assert "destructive" in out and "drop_column" in out and "refused" in out
    assert "fresh: no primary key" in out
    assert pg_db2.password not in out and mariadb_db.password not in out

    allowed = tmp_path / "allowed.yaml"
    allowed.write_text(
        connection("src", mariadb_db) + connection("dst", pg_db2) + migration(allow_destructive=True)
    )
    assert ferry("plan", "-f", str(allowed), "--output", "json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["counts"] == {"safe": 1, "lossy": 0, "destructive": 2}
    assert [(o["kind"], o["table"], o["risk"]) for o in data["operations"]] == [
        ("drop_column", "public.item", "destructive"),
        ("create_table", "public.fresh", "safe"),
        ("alter_type", "public.item", "destructive"),  # text -> varchar(20): truncation
    ]
    assert len(data["hash"]) == 64 and data["exitCode"] == 0


def test_sqlite_source_plans_without_credentials(
    tmp_path: Path, pg_db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    sqlite = f"""---
apiVersion: ferry.dev/v1alpha1
kind: DatabaseConnection
metadata: {{name: src}}
spec: {{engine: sqlite, database: "{DATASETS / "chinook" / "Chinook_Sqlite.sqlite"}"}}
"""
    path = tmp_path / "b.yaml"
    path.write_text(sqlite + connection("dst", pg_db) + migration())
    assert ferry("plan", "-f", str(path), "--output", "json") == 0
    data = json.loads(capsys.readouterr().out)
    assert data["errors"] == []
    assert sum(1 for o in data["operations"] if o["kind"] == "create_table") == 11


def test_unreadable_bundle_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert ferry("plan", "-f", str(tmp_path / "missing.yaml")) == 1
    assert "cannot read" in capsys.readouterr().err
