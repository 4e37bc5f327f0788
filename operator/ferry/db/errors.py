"""Turn a driver exception into a condition reason and a message a user can act on.

Drivers report the same failure in different ways (psycopg: SQLSTATE or libpq text;
PyMySQL: MySQL client error codes; the ssl module: exception types). The classification
looks at the whole exception chain, most specific evidence first. The caller scrubs the
message of secrets before it goes anywhere.
"""

from __future__ import annotations

import re
import socket
import sqlite3
import ssl
from collections.abc import Iterator
from dataclasses import dataclass

import sqlalchemy.exc

from ferry.api import conditions as c
from ferry.api.connection import DatabaseConnectionSpec, TLSMode
from ferry.db.cleartext import REFUSED_PHRASE
from ferry.db.credentials import SecretError
from ferry.db.target import InvalidConnection
from ferry.db.tls import TLSMaterialError

# MySQL client/server error codes (include/mysqld_error.h, errmsg.h).
_MYSQL_ACCESS_DENIED = {1044, 1045, 1698}
_MYSQL_UNKNOWN_DATABASE = 1049
_MYSQL_CANT_CONNECT = {2002, 2003, 2005, 2006, 2013}
_MYSQL_SSL_ERROR = 2026

_TLS_TEXT = re.compile(r"\b(ssl|tls|certificate|x509)\b", re.IGNORECASE)
_TIMEOUT_TEXT = re.compile(r"timeout expired|timed out|timeout", re.IGNORECASE)
_UNREACHABLE_TEXT = re.compile(
    r"connection refused|could not translate host name|name or service not known|no route to host|"
    r"network is unreachable|temporary failure in name resolution|can't connect|could not connect|"
    r"nodename nor servname|connection reset",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Classified:
    reason: str
    message: str


def chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    todo: list[BaseException | None] = [exc]
    while todo:
        current = todo.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        orig = getattr(current, "orig", None)
        todo.extend(
            [orig if isinstance(orig, BaseException) else None, current.__cause__, current.__context__]
        )


def driver_message(exc: BaseException) -> str:
    """The driver's own words, on one line, without SQLAlchemy's wrapping and links."""
    inner = exc.orig if isinstance(exc, sqlalchemy.exc.DBAPIError) and exc.orig is not None else exc
    if getattr(inner, "args", None) and isinstance(inner.args[0], int) and len(inner.args) > 1:
        text = str(inner.args[1])  # PyMySQL: (code, message)
    else:
        text = str(inner) or type(inner).__name__
    text = re.sub(r"^connection failed:\s*", "", text.strip())
    # Our hints follow as a new sentence; drop the driver's own final punctuation.
    return " ".join(text.split()).rstrip(" .?!;:")


def classify(
    exc: BaseException, spec: DatabaseConnectionSpec, address: str, timeout: float | None = None
) -> Classified:
    """The condition reason for `exc` and a message saying what to check."""
    for item in chain(exc):
        if isinstance(item, SecretError):
            return Classified(
                item.reason, f"{item}; create it or fix the reference in the DatabaseConnection"
            )
        if isinstance(item, InvalidConnection):
            return Classified(c.INVALID_SPEC, str(item))
        if isinstance(item, TLSMaterialError):
            return Classified(c.TLS_ERROR, str(item))
    text = driver_message(exc)
    reason = _reason(exc, text)
    return Classified(reason, _explain(reason, text, spec, address, timeout))


def _reason(exc: BaseException, text: str) -> str:
    if REFUSED_PHRASE in text:  # libpq's require_auth, or ferry.db.cleartext's MySQL handlers
        return c.CLEARTEXT_PASSWORD_REFUSED
    for item in chain(exc):
        sqlstate = getattr(item, "sqlstate", None)
        if sqlstate in ("28P01", "28000"):
            return c.AUTHENTICATION_FAILED
        if sqlstate == "3D000":
            return c.DATABASE_NOT_FOUND
        code = item.args[0] if item.args and isinstance(item.args[0], int) else None
        if code in _MYSQL_ACCESS_DENIED:
            return c.AUTHENTICATION_FAILED
        if code == _MYSQL_UNKNOWN_DATABASE:
            return c.DATABASE_NOT_FOUND
        if code == _MYSQL_SSL_ERROR or isinstance(item, ssl.SSLError | ssl.CertificateError):
            return c.TLS_ERROR
        if isinstance(item, socket.timeout | TimeoutError):
            return c.TIMEOUT
        if isinstance(item, FileNotFoundError) or (
            isinstance(item, sqlite3.OperationalError) and "unable to open database" in str(item)
        ):
            return c.DATABASE_NOT_FOUND
    if "password authentication failed" in text or "no pg_hba.conf entry" in text:
        return c.AUTHENTICATION_FAILED
    if re.search(r'database ".*" does not exist', text):
        return c.DATABASE_NOT_FOUND
    if _TLS_TEXT.search(text):
        return c.TLS_ERROR
    if _TIMEOUT_TEXT.search(text):
        return c.TIMEOUT
    if _UNREACHABLE_TEXT.search(text) or any(isinstance(i, ConnectionError) for i in chain(exc)):
        return c.UNREACHABLE
    return c.PROBE_FAILED


def _credentials_source(spec: DatabaseConnectionSpec) -> str:
    if spec.credentials_secret_ref is not None:
        ref = spec.credentials_secret_ref
        return f'the keys "{ref.username_key}" and "{ref.password_key}" of Secret "{ref.name}"'
    if spec.url_secret_ref is not None:
        return f'the URL in key "{spec.url_secret_ref.key}" of Secret "{spec.url_secret_ref.name}"'
    return "the credentials"


def _explain(
    reason: str, text: str, spec: DatabaseConnectionSpec, address: str, timeout: float | None
) -> str:
    if reason == c.AUTHENTICATION_FAILED:
        return f"the server rejected the login: {text}. Check {_credentials_source(spec)}"
    if reason == c.DATABASE_NOT_FOUND:
        return f"{text}. Check spec.database"
    if reason == c.CLEARTEXT_PASSWORD_REFUSED:
        return (
            f"{address} asked for the password in clear text and Ferry did not send it: {text}. "
            "Make the server use SCRAM (PostgreSQL) or a hashing plugin (MySQL), or use TLS (MySQL); "
            "if you trust the server and the network, set allowCleartextPassword to true in spec.options"
        )
    if reason == c.UNREACHABLE:
        return (
            f"cannot reach {address}: {text}. Check spec.host and spec.port, and that the server accepts "
            "TCP connections from the operator (network policies, firewalls)"
        )
    if reason == c.TIMEOUT:
        within = f" within {timeout:g}s" if timeout else ""
        return (
            f"no answer from {address}{within}: {text}. Check that spec.host and spec.port point at a "
            "database server and that no firewall drops the traffic"
        )
    if reason == c.TLS_ERROR:
        mode = spec.tls.mode
        if re.search(r"does(n.t| not) support", text, re.IGNORECASE):
            hint = "the server does not offer TLS; enable TLS on the server or set spec.tls.mode to disable"
        elif mode in (TLSMode.VERIFY_CA, TLSMode.VERIFY_FULL):
            hint = "check that tls.caSecretRef holds the CA that signed the server certificate" + (
                " and that the certificate names spec.host" if mode == TLSMode.VERIFY_FULL else ""
            )
        else:
            hint = f"check the server's TLS setup and spec.tls (mode {mode.value})"
        return f"TLS handshake with {address} failed: {text}; {hint}"
    return f"probe of {address} failed: {text}"
