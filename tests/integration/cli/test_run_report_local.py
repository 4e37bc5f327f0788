"""`ferry run --report FILE`: the run report of a local run, Succeeded and Failed, on real PostgreSQL.

Both must hold every field an auditor reads (outcome, errors, plan hash and risk, approvals,
personal data with evidence and protection, transforms, tables with rows, validation and
checksum, schema hashes of both sides) and no secret: neither a password nor a transform key.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import psycopg
import yaml

from ferry.cli import run as run_cli
from harness.databases import Database
from integration.services.test_gate_paths import _connection

KEY = "k3y-material-never-in-a-report"


def _bundle(source: Database, target: Database, checksum: bool = True) -> str:
    transforms = [{"column": "email", "type": "hash", "keySecretRef": {"name": "pii-key", "key": "k"}}]
    docs = [
        *_connection("src", source), *_connection("dst", target),
        {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "pii-key"}, "stringData": {"k": KEY}},
        {"apiVersion": "ferry.dev/v1alpha1", "kind": "Migration", "metadata": {"name": "move"},
         "spec": {"source": {"connectionRef": {"name": "src"}, "schema": "public"},
                  "target": {"connectionRef": {"name": "dst"}, "schema": "public"},
                  "validation": {"checksum": checksum},
                  "tables": {"overrides": [{"name": "customer", "transforms": transforms}]}}},
    ]  # fmt: skip
    return yaml.safe_dump_all(docs)


def _run(bundle: Path, report: Path) -> int:
    parser = argparse.ArgumentParser(prog="ferry")
    run_cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["run", "-f", str(bundle), "--no-progress", "--report", str(report)])
    code: int = args.func(args)
    return code


def _no_secret(text: str, *dbs: Database) -> None:
    assert KEY not in text
    for db in dbs:
        assert db.password not in text


def _common_fields(report: dict[str, Any]) -> None:
    assert report["kind"] == "MigrationRunReport"
    assert report["migration"]["name"] == "move" and report["migration"]["uid"] == "local/move"
    for field in ("phase", "message", "startTime", "completionTime", "attempts"):
        assert report["outcome"][field] is not None, field
    assert len(report["plan"]["hash"]) == 64 and "destructive" in report["plan"]
    assert report["approvals"] == [] and report["approvedBySpecHash"] is False
    assert report["transforms"] == [
        {"table": "customer", "column": "email", "type": "hash", "keySecret": "pii-key"}
    ]
    [email] = [p for p in report["personalData"] if p["column"] == "email"]
    assert email["protection"] == "hash" and email["evidence"] == ["name", "email: 3/3 sampled values match"]
    for side in ("source", "target"):
        [snap] = report["schemas"][side]
        assert snap["schema"] == "public" and len(snap["hash"]) == 64


def test_a_succeeded_local_run_reports_every_field_without_secrets(
    tmp_path: Path, pg_db: Database, pg_db2: Database
) -> None:
    with psycopg.connect(pg_db.libpq_dsn(), autocommit=True) as conn:
        conn.execute("CREATE TABLE customer (id integer PRIMARY KEY, email text, city text)")
        conn.execute("INSERT INTO customer VALUES (1, 'a@example.com', 'Oslo'), (2, 'b@example.com', 'Rome'),"
                     " (3, 'c@example.com', 'Lima')")  # fmt: skip
    bundle, out = tmp_path / "bundle.yaml", tmp_path / "report.json"
    bundle.write_text(_bundle(pg_db, pg_db2))
    assert _run(bundle, out) == 0
    text = out.read_text()
    _no_secret(text, pg_db, pg_db2)
    report = json.loads(text)
    _common_fields(report)
    assert report["outcome"]["phase"] == "Succeeded" and report["errors"] == []
    [table] = report["tables"]
    assert table["name"] == "public.customer" and table["rowsCopied"] == 3 and table["state"] == "validated"
    assert table["checksum"].startswith("sha256:") and len(table["checksum"]) == len("sha256:") + 64

    markdown = tmp_path / "report.md"
    assert _run(bundle, markdown) == 0  # a second run: resumes, copies nothing new, reports again
    md = markdown.read_text()
    _no_secret(md, pg_db, pg_db2)
    assert "# Run report: local/move" in md and "| public.customer | email | email | hash |" in md
    assert "```sql" in md and table["checksum"] in md


def test_a_failed_local_run_reports_its_errors_without_secrets(
    tmp_path: Path, pg_db: Database, pg_db2: Database
) -> None:
    with psycopg.connect(pg_db.libpq_dsn(), autocommit=True) as conn:
        conn.execute("CREATE TABLE customer (id integer PRIMARY KEY, email text, city text)")
        conn.execute("INSERT INTO customer VALUES (1, 'a@example.com', 'Oslo'), (2, 'b@example.com', 'Rome'),"
                     " (3, 'c@example.com', 'Lima')")  # fmt: skip
    with psycopg.connect(pg_db2.libpq_dsn(), autocommit=True) as conn:  # a row the copy collides with
        conn.execute("CREATE TABLE customer (id integer PRIMARY KEY, email text, city text)")
        conn.execute("INSERT INTO customer VALUES (2, 'x', 'kept')")
    bundle, out = tmp_path / "bundle.yaml", tmp_path / "report.json"
    bundle.write_text(_bundle(pg_db, pg_db2))
    assert _run(bundle, out) == 1
    text = out.read_text()
    _no_secret(text, pg_db, pg_db2)
    report = json.loads(text)
    _common_fields(report)
    assert report["outcome"]["phase"] == "Failed"
    assert report["errors"] and "copy units failed" in report["errors"][0]
    [table] = report["tables"]
    assert table["state"] == "failed" and "duplicate key" in table["validation"]
    assert "b@example.com" not in text  # the colliding row's values are not in the error either
