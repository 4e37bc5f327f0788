"""The probe against real servers: the reason and message a user sees for each failure."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from ferry.api import conditions as c
from ferry.api.connection import DatabaseConnectionSpec
from ferry.db.credentials import Credentials
from ferry.db.probe import ProbeResult, probe
from harness.databases import Database, MariaDBServer, PostgresServer
from integration.connection.conftest import connection_spec
from integration.connection.tls_servers import Pki


def _probe(spec: dict[str, Any], creds: Credentials, timeout: float = 5) -> ProbeResult:
    return probe(DatabaseConnectionSpec.model_validate(spec), creds, timeout)


def _creds(db: Database, **overrides: str) -> Credentials:
    return Credentials(**{"username": db.user, "password": db.password, **overrides})


def _no_secrets(result: ProbeResult, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in result.message


def test_postgresql_ready_with_server_version(pg_db: Database, pg_server: PostgresServer) -> None:
    result = _probe(connection_spec(pg_db), _creds(pg_db))
    with pg_server.admin() as conn:
        expected = conn.execute("SHOW server_version").fetchone()
    assert result.ok, result.message
    assert result.reason == c.CONNECTED
    assert expected is not None and result.server_version == expected[0]
    assert result.latency_ms > 0


def test_mariadb_ready_with_server_version(mariadb_db: Database, mariadb_server: MariaDBServer) -> None:
    result = _probe(connection_spec(mariadb_db), _creds(mariadb_db))
    with mariadb_server.admin() as conn, conn.cursor() as cur:
        cur.execute("SELECT VERSION()")
        expected = cur.fetchone()
    assert result.ok, result.message
    assert expected is not None and result.server_version == expected[0]
    assert "MariaDB" in (result.server_version or "")


@pytest.mark.parametrize("db_fixture", ["pg_db", "mariadb_db"])
def test_wrong_password_is_authentication_failed(db_fixture: str, request: pytest.FixtureRequest) -> None:
    db: Database = request.getfixturevalue(db_fixture)
    result = _probe(connection_spec(db, secret="app-creds"), _creds(db, password="not-the-password-xyz"))
    assert not result.ok
    assert result.reason == c.AUTHENTICATION_FAILED
    assert 'Secret "app-creds"' in result.message
    _no_secrets(result, "not-the-password-xyz", db.password)


@pytest.mark.parametrize("db_fixture", ["pg_db", "mariadb_db"])
def test_unknown_database_is_database_not_found(db_fixture: str, request: pytest.FixtureRequest) -> None:
    db: Database = request.getfixturevalue(db_fixture)
    spec = {**connection_spec(db), "database": "no_such_db"}
    result = _probe(spec, _creds(db))
    assert result.reason in (c.DATABASE_NOT_FOUND, c.AUTHENTICATION_FAILED)  # MariaDB hides unknown DBs
    assert "no_such_db" in result.message


def test_closed_port_is_unreachable(pg_db: Database) -> None:
    from harness.processes import free_port

    port = free_port()
    result = _probe({**connection_spec(pg_db), "port": port}, _creds(pg_db))
    assert result.reason == c.UNREACHABLE
    assert f"127.0.0.1:{port}" in result.message
    assert "spec.host" in result.message


@pytest.mark.parametrize("engine", ["postgresql", "mariadb"])
def test_server_that_never_answers_is_timeout(engine: str, silent_port: int) -> None:
    spec = {"engine": engine, "host": "127.0.0.1", "port": silent_port, "database": "x",
            "credentialsSecretRef": {"name": "s"}}  # fmt: skip
    result = _probe(spec, Credentials("u", "secret-pw-123"), timeout=2)
    assert result.reason == c.TIMEOUT, result.message
    _no_secrets(result, "secret-pw-123")


def test_tls_required_against_server_without_tls(pg_db: Database) -> None:
    result = _probe(connection_spec(pg_db, tls={"mode": "require"}), _creds(pg_db))
    assert result.reason == c.TLS_ERROR
    assert "does not offer TLS" in result.message


def test_tls_required_against_mariadb_without_tls(mariadb_db: Database) -> None:
    result = _probe(connection_spec(mariadb_db, tls={"mode": "require"}), _creds(mariadb_db))
    assert result.reason == c.TLS_ERROR, result.message
    assert "does not offer TLS" in result.message


def _tls_spec(db: Database, mode: str) -> dict[str, Any]:
    return connection_spec(db, tls={"mode": mode, "caSecretRef": {"name": "db-ca"}})


@pytest.mark.parametrize("mode", ["require", "verify-ca", "verify-full"])
def test_tls_modes_against_tls_server(mode: str, pg_tls_db: Database, pki: Pki) -> None:
    result = _probe(_tls_spec(pg_tls_db, mode), _creds(pg_tls_db, ca_pem=pki.ca_pem))
    assert result.ok, result.message


def test_verify_full_with_wrong_ca_is_tls_error(pg_tls_db: Database, other_pki: Pki) -> None:
    result = _probe(_tls_spec(pg_tls_db, "verify-full"), _creds(pg_tls_db, ca_pem=other_pki.ca_pem))
    assert result.reason == c.TLS_ERROR
    assert "tls.caSecretRef" in result.message


def test_ca_that_is_not_pem_is_tls_error(pg_tls_db: Database) -> None:
    result = _probe(_tls_spec(pg_tls_db, "verify-full"), _creds(pg_tls_db, ca_pem="garbage"))
    assert result.reason == c.TLS_ERROR
    assert "not a valid PEM" in result.message


def test_url_secret_gives_the_whole_dsn(pg_db: Database) -> None:
    spec = {"engine": "postgresql", "database": pg_db.name, "urlSecretRef": {"name": "dsn"}}
    url = f"postgresql://{pg_db.user}:{pg_db.password}@{pg_db.host}:{pg_db.port}/ignored"
    assert _probe(spec, Credentials(url=url)).ok


def test_unparsable_url_is_invalid_spec_without_the_url(pg_db: Database) -> None:
    spec = {"engine": "postgresql", "database": pg_db.name, "urlSecretRef": {"name": "dsn"}}
    url = f"host={pg_db.host} password={pg_db.password}"
    result = _probe(spec, Credentials(url=url))
    assert result.reason == c.INVALID_SPEC
    assert result.permanent
    _no_secrets(result, pg_db.password, url)


def test_sqlite_probe_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    sqlite3.connect(path).close()
    assert _probe({"engine": "sqlite", "database": str(path)}, Credentials()).ok
    missing = tmp_path / "missing.db"
    result = _probe({"engine": "sqlite", "database": str(missing)}, Credentials())
    assert result.reason == c.DATABASE_NOT_FOUND
    assert not missing.exists()
