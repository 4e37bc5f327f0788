"""`ferry plan -f bundle.yaml` against real databases: table and JSON output, exit codes."""

from __future__ import annotations

import argparse
import json
import subprocess
from pathlib import Path

import psycopg
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


APP_SCHEMA = """
CREATE TYPE mood AS ENUM ('happy', 'sad');
CREATE TABLE author (id integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text NOT NULL UNIQUE,
                     feeling mood NOT NULL DEFAULT 'happy', updated_at timestamptz);
CREATE TABLE book (id bigserial PRIMARY KEY, author_id integer NOT NULL REFERENCES author (id),
                   title text NOT NULL CHECK (title <> ''), body text);
CREATE INDEX book_title_lower ON book (lower(title));
CREATE FUNCTION stamp() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN NEW.updated_at := now(); RETURN NEW; END $$;
CREATE TRIGGER author_stamp BEFORE UPDATE ON author FOR EACH ROW EXECUTE FUNCTION stamp();
CREATE VIEW book_titles AS SELECT b.title, a.name FROM book b JOIN author a ON a.id = b.author_id;
"""


def test_sql_script_is_the_plan_and_psql_runs_it(
    tmp_path: Path, pg_db: Database, pg_db2: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    """`ferry plan --sql` prints only the script: psql runs it on the empty target, after which
    the target needs no more DDL (the script was the whole schema plan), and every statement
    is preceded by its operation's comment with risk and reason."""
    run_sql(pg_db, APP_SCHEMA)
    bundle = tmp_path / "b.yaml"
    bundle.write_text(connection("src", pg_db) + connection("dst", pg_db2) + migration())

    assert ferry("plan", "-f", str(bundle), "--sql") == 0
    captured = capsys.readouterr()
    script = captured.out
    assert captured.err == ""
    assert pg_db2.password not in script and pg_db.password not in script
    lines = script.splitlines()
    assert lines[0].startswith("-- Ferry plan for Migration move: mode diff, plan hash ")
    # Each operation's comment names its number, kind, table and risk; statements follow it.
    headers = [line for line in lines if line.startswith("-- ") and "[safe]:" in line]
    assert any(" create_table public.author " in h for h in headers)
    assert any(" create_trigger public.author" in h for h in headers)
    assert "BEGIN;" in lines and "COMMIT;" in lines
    assert any(line.startswith("CREATE TABLE") for line in lines)

    script_file = tmp_path / "plan.sql"
    script_file.write_text(script)
    env = {"PGPASSWORD": pg_db2.password, "PATH": "/usr/bin:/bin"}
    result = subprocess.run(
        ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", pg_db2.host, "-p", str(pg_db2.port),
         "-U", pg_db2.user, "-d", pg_db2.name, "-f", str(script_file)],
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr

    assert ferry("plan", "-f", str(bundle), "--output", "json") == 0
    replanned = json.loads(capsys.readouterr().out)
    assert [o for o in replanned["operations"] if o["phase"] != "data"] == []
    # The application's statements work on the target the script built.
    run_sql(pg_db2, "INSERT INTO author (name) VALUES ('Ann');\n"
                    "INSERT INTO book (author_id, title) VALUES (1, 'A');\n"
                    "UPDATE author SET name = 'Anne';")  # fmt: skip
    with psycopg.connect(pg_db2.libpq_dsn()) as conn:
        row = conn.execute("SELECT name, updated_at IS NOT NULL FROM author").fetchone()
        assert row == ("Anne", True)  # the trigger fired
        assert conn.execute("SELECT title, name FROM book_titles").fetchall() == [("A", "Anne")]


def test_sql_script_of_a_refused_plan_says_why_on_stderr(
    tmp_path: Path, mariadb_db: Database, pg_db2: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    run_sql(mariadb_db, "CREATE TABLE item (id int PRIMARY KEY);")
    run_sql(pg_db2, "CREATE TABLE item (id integer PRIMARY KEY, legacy text);")
    bundle = tmp_path / "b.yaml"
    bundle.write_text(connection("src", mariadb_db) + connection("dst", pg_db2) + migration())

    assert ferry("plan", "-f", str(bundle), "--sql") == 2
    captured = capsys.readouterr()
    assert "ALTER TABLE" in captured.out and "[destructive]:" in captured.out
    assert captured.err.startswith("ferry plan: ") and "approv" in captured.err
