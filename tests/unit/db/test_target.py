"""Spec + credentials -> one connection target: which value wins, and errors that leak nothing."""

from __future__ import annotations

from typing import Any

import pytest

from ferry.api.connection import DatabaseConnectionSpec, TLSMode
from ferry.db.credentials import Credentials
from ferry.db.engines import (
    asyncmy_connect_kwargs,
    libpq_params,
    pymysql_connect_kwargs,
    sqlalchemy_url,
)
from ferry.db.target import InvalidConnection, resolve_target


def spec(**fields: Any) -> DatabaseConnectionSpec:
    base: dict[str, Any] = {
        "engine": "postgresql",
        "host": "db",
        "database": "shop",
        "credentialsSecretRef": {"name": "c"},
    }
    return DatabaseConnectionSpec.model_validate({**base, **fields})


def test_credentials_and_default_port() -> None:
    target = resolve_target(spec(), Credentials("app", "pw-1234"))
    assert (target.host, target.port, target.username, target.password) == ("db", 5432, "app", "pw-1234")
    assert "pw-1234" not in repr(target)


def test_url_gives_what_the_spec_leaves_open_and_spec_database_wins() -> None:
    url_spec = spec(host=None, credentialsSecretRef=None, urlSecretRef={"name": "dsn"})
    target = resolve_target(
        url_spec, Credentials(url="postgres://u:p%40ss@10.0.0.5:6432/other?sslmode=require")
    )
    assert (target.host, target.port, target.database) == ("10.0.0.5", 6432, "shop")
    assert (target.username, target.password) == ("u", "p@ss")
    assert target.params == {"sslmode": "require"}
    # spec.tls left at disable keeps the URL's own sslmode
    assert libpq_params(target, None)["sslmode"] == "require"


def test_spec_host_overrides_the_url() -> None:
    url_spec = spec(host="primary", credentialsSecretRef=None, urlSecretRef={"name": "dsn"})
    target = resolve_target(url_spec, Credentials(url="postgresql://u:p@replica/x"))
    assert target.host == "primary"


@pytest.mark.parametrize(
    "url", ["host=db password=hunter22", "mysql://u:hunter22@db/x", "postgresql://u:hunter22@db:notaport/x"]
)
def test_bad_url_is_invalid_and_the_message_holds_no_secret(url: str) -> None:
    url_spec = spec(host=None, credentialsSecretRef=None, urlSecretRef={"name": "dsn", "key": "uri"})
    with pytest.raises(InvalidConnection) as raised:
        resolve_target(url_spec, Credentials(url=url))
    assert "hunter22" not in str(raised.value)
    assert 'Secret "dsn" key "uri"' in str(raised.value)


def test_verify_modes_need_a_ca() -> None:
    # The CRD refuses this; a local-mode bundle is only checked by pydantic, so the target does.
    with pytest.raises(InvalidConnection, match="caSecretRef"):
        resolve_target(spec(tls={"mode": "verify-full"}), Credentials("u", "p"))


def test_options_reach_libpq_and_mysql_urls() -> None:
    pg = resolve_target(
        spec(options={"params": {"target_session_attrs": "read-write"}}), Credentials("u", "p")
    )
    params = libpq_params(pg, None, connect_timeout=1)
    assert params["target_session_attrs"] == "read-write"
    assert params["application_name"] == "ferry"
    assert params["connect_timeout"] == "2"  # libpq's minimum
    assert params["sslmode"] == TLSMode.DISABLE.value
    maria = resolve_target(
        spec(engine="mariadb", options={"params": {"local_infile": "0"}}), Credentials("u", "p")
    )
    url = sqlalchemy_url(maria)
    assert url.drivername == "mariadb+pymysql" and url.port == 3306
    assert dict(url.query) == {"local_infile": "0", "charset": "utf8mb4"}
    assert "p" not in url.render_as_string(hide_password=True).split("@")[0].split(":")[-1]


def test_sqlite_needs_no_credentials() -> None:
    target = resolve_target(DatabaseConnectionSpec(engine="sqlite", database="/tmp/x.db"), Credentials())
    assert sqlalchemy_url(target).database == "/tmp/x.db"


def test_libpq_refuses_cleartext_passwords_unless_allowed() -> None:
    creds = Credentials("u", "p")
    # Ferry's value wins over one in options.params: an editor cannot switch the refusal off there.
    refusing = resolve_target(spec(options={"params": {"require_auth": "password"}}), creds)
    assert libpq_params(refusing, None)["require_auth"] == "!password"
    allowed = resolve_target(spec(options={"allowCleartextPassword": True}), creds)
    assert "require_auth" not in libpq_params(allowed, None)


def test_mysql_drivers_refuse_the_cleartext_plugins_without_tls() -> None:
    creds = Credentials("u", "p")
    plain = spec(engine="mysql")
    for kwargs in (pymysql_connect_kwargs(plain, creds), asyncmy_connect_kwargs(plain, creds)):
        assert set(kwargs["auth_plugin_map"]) == {"mysql_clear_password", "dialog"}
    # With TLS the password travels encrypted; with the opt-out the user accepts clear text.
    for other in (spec(engine="mysql", tls={"mode": "require"}),
                  spec(engine="mysql", options={"allowCleartextPassword": True})):  # fmt: skip
        assert "auth_plugin_map" not in pymysql_connect_kwargs(other, creds)
        assert "auth_plugin_map" not in asyncmy_connect_kwargs(other, creds)
