"""A server that asks for the password in clear text gets nothing, unless the connection opts in.

The servers are fakes (cleartext_servers.py) that record every byte they receive. Each refusal
test has a twin with `options.allowCleartextPassword: true` that finds the password in the
record: proof that the fake asked in a way the driver would have answered.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import asyncmy
import asyncmy.errors
import psycopg
import pytest

from ferry.api import conditions as c
from ferry.api.connection import DatabaseConnectionSpec
from ferry.db.credentials import Credentials
from ferry.db.engines import asyncmy_connect_kwargs, psycopg_connect_params
from ferry.db.probe import probe
from integration.connection.cleartext_servers import RecordingServer, mysql_cleartext, postgres_cleartext

PASSWORD = f"s3cret-{secrets.token_hex(8)}"
CREDS = Credentials(username="app", password=PASSWORD)


def _spec(engine: str, port: int, **options: Any) -> DatabaseConnectionSpec:
    return DatabaseConnectionSpec.model_validate(
        {"engine": engine, "host": "127.0.0.1", "port": port, "database": "shop",
         "credentialsSecretRef": {"name": "app-creds"}, "options": options}
    )  # fmt: skip


@pytest.fixture
def pg_fake() -> Iterator[RecordingServer]:
    with RecordingServer(postgres_cleartext) as server:
        yield server


def test_postgresql_probe_refuses_a_cleartext_request_and_sends_no_password(pg_fake: RecordingServer) -> None:
    result = probe(_spec("postgresql", pg_fake.port), CREDS, timeout=5)
    assert not result.ok
    assert result.reason == c.CLEARTEXT_PASSWORD_REFUSED
    assert "asked for the password in clear text and Ferry did not send it" in result.message
    assert "set allowCleartextPassword to true in spec.options" in result.message
    assert PASSWORD not in result.message
    assert pg_fake.connections >= 1 and b"app" in pg_fake.received  # the StartupMessage arrived
    assert PASSWORD.encode() not in pg_fake.received


def test_psycopg_sessions_refuse_too(pg_fake: RecordingServer) -> None:
    """The path of schema work and change capture (psycopg.connect with Ferry's libpq params)."""
    with (
        psycopg_connect_params(_spec("postgresql", pg_fake.port), CREDS) as params,
        pytest.raises(psycopg.OperationalError, match="server requested a cleartext password"),
    ):
        psycopg.connect(**params)
    assert PASSWORD.encode() not in pg_fake.received


def test_postgresql_opt_in_sends_the_password(pg_fake: RecordingServer) -> None:
    result = probe(_spec("postgresql", pg_fake.port, allowCleartextPassword=True), CREDS, timeout=5)
    assert not result.ok and result.reason == c.AUTHENTICATION_FAILED  # the fake refuses every login
    assert PASSWORD.encode() in pg_fake.received


@pytest.mark.parametrize("plugin", ["mysql_clear_password", "dialog"])
def test_mysql_probe_refuses_cleartext_plugins_without_tls(plugin: str) -> None:
    with RecordingServer(mysql_cleartext(plugin)) as server:
        result = probe(_spec("mysql", server.port), CREDS, timeout=5)
    assert not result.ok
    assert result.reason == c.CLEARTEXT_PASSWORD_REFUSED, result.message
    assert f"authentication plugin {plugin}" in result.message
    assert server.connections == 1 and b"app" in server.received  # the handshake response arrived
    assert PASSWORD.encode() not in server.received


@pytest.mark.parametrize("plugin", ["mysql_clear_password", "dialog"])
def test_mysql_opt_in_sends_the_password(plugin: str) -> None:
    with RecordingServer(mysql_cleartext(plugin)) as server:
        result = probe(_spec("mysql", server.port, allowCleartextPassword=True), CREDS, timeout=5)
    assert not result.ok and result.reason == c.AUTHENTICATION_FAILED
    assert PASSWORD.encode() in server.received


@pytest.mark.parametrize("allow", [False, True])
async def test_asyncmy_the_copy_driver_refuses_too(allow: bool) -> None:
    with RecordingServer(mysql_cleartext("mysql_clear_password")) as server:
        kwargs = asyncmy_connect_kwargs(_spec("mysql", server.port, allowCleartextPassword=allow), CREDS)
        with pytest.raises(asyncmy.errors.OperationalError) as refused:
            await asyncmy.connect(**kwargs)
    if allow:
        assert PASSWORD.encode() in server.received
    else:
        assert "server requested a cleartext password" in str(refused.value)
        assert PASSWORD.encode() not in server.received
