"""`ferry plan --sql` for Chinook from MariaDB into PostgreSQL, run by psql on an empty database,
builds the same schema as Ferry's own apply (`ferry run` into another empty database): a reviewer
who approves the script approves what runs. Compared as `pg_dump --schema-only` prints them,
without owners and grants (each test database has its own role) and without Ferry's own
bookkeeping schema."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ferry.cli.main import main
from harness.databases import Database, PostgresServer
from harness.datasets import load_chinook
from integration.copy.test_cli_run import _bundle, _run

pytestmark = pytest.mark.integration


def _schema_dump(db: Database) -> str:
    done = subprocess.run(
        ["pg_dump", "--schema-only", "--no-owner", "--no-privileges", "--exclude-schema=ferry",
         "-h", db.host, "-p", str(db.port), "-U", db.user, "-d", db.name],
        env={"PGPASSWORD": db.password or "", "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    # pg_dump's header names its own version and a random restrict key (PostgreSQL 15.14+).
    return "\n".join(line for line in done.stdout.splitlines() if not line.startswith(("--", "\\")))


def test_the_reviewed_script_builds_the_schema_ferry_builds(
    mariadb_db: Database,
    pg_server: PostgresServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    load_chinook(mariadb_db)
    by_psql, by_ferry = pg_server.create_database(), pg_server.create_database()

    (tmp_path / "plan.yaml").write_text(_bundle(mariadb_db, by_psql, mode="diff"))
    monkeypatch.setenv("FERRY_SECRET_SRC_CREDS_PASSWORD", mariadb_db.password or "")
    capsys.readouterr()
    assert main(["plan", "-f", str(tmp_path / "plan.yaml"), "--secrets-from-env", "--sql"]) == 0
    script = capsys.readouterr().out
    (tmp_path / "plan.sql").write_text(script)
    applied = subprocess.run(
        ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", by_psql.host, "-p", str(by_psql.port),
         "-U", by_psql.user, "-d", by_psql.name, "-f", str(tmp_path / "plan.sql")],
        env={"PGPASSWORD": by_psql.password or "", "PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert applied.returncode == 0, applied.stderr

    run = _run(tmp_path, _bundle(mariadb_db, by_ferry, mode="diff"), monkeypatch, mariadb_db.password or "")
    assert run == 0, capsys.readouterr()

    reviewed, built = _schema_dump(by_psql), _schema_dump(by_ferry)
    assert "CREATE TABLE public.invoice_line" in built or 'CREATE TABLE public."InvoiceLine"' in built
    assert reviewed == built
