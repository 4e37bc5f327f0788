"""Refusing to send a password in clear text, driver by driver.

A server — or whoever answers at the host a DatabaseConnection names — can ask the client for
the password as it is. Unless `options.allowCleartextPassword` is set, Ferry's drivers refuse
before the password leaves the process:

- libpq (psycopg: probes, planning, schema work, change capture): `require_auth=!password`
  (libpq 16+; psycopg's binary wheel bundles libpq 18). It refuses AuthenticationCleartextPassword,
  which PostgreSQL's `password`, `ldap`, `pam`, `radius` and `bsd` methods all use, with or
  without TLS; SCRAM, MD5, certificates, GSSAPI and `trust` still work.
- PyMySQL and asyncmy: `mysql_clear_password` and MariaDB's `dialog` (PAM) send the password
  as it is. Neither driver has a switch, but both take an `auth_plugin_map`: a handler of ours
  for those two plugins ends the handshake instead. It is installed only without TLS: with TLS
  the password travels encrypted (and `verify-full` makes sure it reaches the right server).
- asyncpg (the copy's PostgreSQL sessions in worker pods) has no equivalent of require_auth
  (0.32), and its authentication is compiled code Ferry cannot hook. Its sessions only start
  after libpq sessions with require_auth reached the same server (the operator's probe and
  plan, the worker's schema read of the source); a server that changes its method in between
  could still receive the password — pinning hosts (Project policy.connections) is the defence
  against a server that lies. docs/connections.md says so.

What this does not change: a server Ferry trusts with the password by design still gets it —
MySQL's caching_sha2_password and sha256_password send it in clear over TLS, or encrypted to
an RSA key the server hands out without TLS; PostgreSQL's MD5 method reveals a hash that
another MD5 server accepts. Against a host that is not yours, pin hosts.
"""

from __future__ import annotations

from typing import Any

import asyncmy.errors
import pymysql.err

# libpq: every method but AuthenticationCleartextPassword (libpq 16+).
LIBPQ_REQUIRE_AUTH = "!password"

# The MySQL/MariaDB plugins that put the password itself on the wire.
CLEARTEXT_PLUGINS = ("mysql_clear_password", "dialog")
# CR_AUTH_PLUGIN_CANNOT_LOAD: what the drivers raise for a plugin they will not run.
_CR_AUTH_PLUGIN_CANNOT_LOAD = 2059

# The phrase ferry.db.errors recognises (libpq's own message has it too).
REFUSED_PHRASE = "server requested a cleartext password"


def refusal_message(plugin: str) -> str:
    return f"the {REFUSED_PHRASE} (authentication plugin {plugin}) on a connection without TLS"


def _refusing_handler(plugin: str, error: type[Exception]) -> type:
    """An auth plugin handler class (the drivers instantiate it with the connection and call
    `authenticate(packet)` synchronously) that raises instead of sending the password."""

    class Refuse:
        def __init__(self, connection: Any) -> None:
            self.connection = connection

        def authenticate(self, packet: Any) -> Any:
            raise error(_CR_AUTH_PLUGIN_CANNOT_LOAD, refusal_message(plugin))

    Refuse.__name__ = Refuse.__qualname__ = f"Refuse_{plugin}"
    return Refuse


def pymysql_auth_plugin_map() -> dict[str, type]:
    """`auth_plugin_map` for pymysql.connect (and SQLAlchemy's connect_args) without TLS."""
    return {plugin: _refusing_handler(plugin, pymysql.err.OperationalError) for plugin in CLEARTEXT_PLUGINS}


def asyncmy_auth_plugin_map() -> dict[str, type]:
    """`auth_plugin_map` for asyncmy.connect without TLS."""
    error = asyncmy.errors.OperationalError
    return {plugin: _refusing_handler(plugin, error) for plugin in CLEARTEXT_PLUGINS}
