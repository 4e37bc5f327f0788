"""`ferry connection test -f`: the operator's probe from a YAML file, for troubleshooting."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
import yaml

from ferry.cli import connection as cli
from ferry.cli.bundle import env_var_for
from harness.databases import Database


def run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="ferry")
    cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


def write_bundle(path: Path, db: Database, password: str | None) -> Path:
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "creds"},
        "stringData": {"username": db.user, **({"password": password} if password else {})},
    }
    conn = {
        "apiVersion": "ferry.dev/v1alpha1",
        "kind": "DatabaseConnection",
        "metadata": {"name": "shop"},
        "spec": {
            "engine": db.engine,
            "host": db.host,
            "port": db.port,
            "database": db.name,
            "credentialsSecretRef": {"name": "creds"},
        },
    }
    path.write_text(yaml.safe_dump_all([secret, conn]))
    return path


def test_reachable_database_exits_0_with_version(
    pg_db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert (
        run(["connection", "test", "-f", str(write_bundle(tmp_path / "c.yaml", pg_db, pg_db.password))]) == 0
    )
    out = capsys.readouterr().out
    assert "Ready=True reason=Connected" in out and "serverVersion: " in out
    assert pg_db.password not in out


def test_wrong_password_exits_1_with_reason(
    mariadb_db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bundle = write_bundle(tmp_path / "c.yaml", mariadb_db, "wrong-password-zz")
    assert run(["connection", "test", "-f", str(bundle), "--name", "shop"]) == 1
    out = capsys.readouterr().out
    assert "Ready=False reason=AuthenticationFailed" in out and 'Secret "creds"' in out
    assert "wrong-password-zz" not in out


def test_missing_key_and_password_from_env(
    pg_db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = write_bundle(tmp_path / "c.yaml", pg_db, None)
    assert run(["connection", "test", "-f", str(bundle)]) == 1
    assert "reason=SecretKeyMissing" in capsys.readouterr().out
    monkeypatch.setenv(env_var_for("creds", "password"), pg_db.password)
    assert run(["connection", "test", "-f", str(bundle), "--secrets-from-env"]) == 0


def test_unreadable_file_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["connection", "test", "-f", str(tmp_path / "absent.yaml")]) == 1
    assert "cannot read" in capsys.readouterr().err
