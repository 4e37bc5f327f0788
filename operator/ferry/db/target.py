"""One normalized description of where to connect: spec + resolved credentials, merged once.

Every driver-specific builder (SQLAlchemy URL, libpq parameters, asyncpg and PyMySQL
keyword arguments) starts from a `ConnectionTarget`, so the rules of precedence live here:

- with `credentialsSecretRef`, the spec gives host, port and database;
- with `urlSecretRef`, the URL gives host, port, user, password and query parameters; the
  spec's `host` and `port` override it when set, and `database` (always set) wins, so what
  `kubectl get dbc` shows is what Ferry connects to;
- `options.params` override URL query parameters; TLS comes from `spec.tls`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from ferry.api.connection import DatabaseConnectionSpec, Engine, TLSMode
from ferry.db.credentials import Credentials
from ferry.db.dialects import UnknownDialect, family


class InvalidConnection(ValueError):
    """The spec, or the URL in its Secret, cannot describe a connection; no retry will fix it."""


# URL schemes accepted in a `urlSecretRef` besides the dialect names (a mysql:// URL serves a
# mariadb connection and the other way round: ferry.db.dialects.family decides).
_SCHEME_ALIASES = {"postgres": "postgresql"}


@dataclass(frozen=True)
class ConnectionTarget:
    engine: Engine
    database: str
    host: str | None = None
    port: int | None = None
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    params: dict[str, str] = field(default_factory=dict)
    tls_mode: TLSMode = TLSMode.DISABLE
    ca_pem: str | None = field(default=None, repr=False)
    client_cert_pem: str | None = field(default=None, repr=False)
    client_key_pem: str | None = field(default=None, repr=False)
    connect_timeout: int = 10
    application_name: str = "ferry"
    allow_cleartext_password: bool = False

    @property
    def address(self) -> str:
        """host:port for messages (the database file for SQLite)."""
        if self.engine == Engine.SQLITE:
            return self.database
        return f"{self.host}:{self.port}"


def resolve_target(spec: DatabaseConnectionSpec, credentials: Credentials) -> ConnectionTarget:
    if spec.engine == Engine.SQLITE:
        return ConnectionTarget(
            engine=spec.engine,
            database=spec.database,
            params=dict(spec.options.params),
            connect_timeout=spec.options.connect_timeout_seconds,
            application_name=spec.options.application_name,
        )
    host, port, username, password = spec.host, spec.port, credentials.username, credentials.password
    params: dict[str, str] = {}
    if credentials.url:
        url_host, url_port, username, password, params = _parse_url(spec, credentials.url)
        host = host or url_host
        port = port or url_port
    if not host:
        raise InvalidConnection("spec.host is empty and no URL gives a host")
    if (
        spec.tls.mode in (TLSMode.VERIFY_CA, TLSMode.VERIFY_FULL)
        and spec.tls.ca_secret_ref is None
        and not credentials.ca_pem
    ):
        raise InvalidConnection(f"tls.mode {spec.tls.mode.value} needs tls.caSecretRef")
    params.update(spec.options.params)
    return ConnectionTarget(
        engine=spec.engine,
        database=spec.database,
        host=host,
        port=port or spec.default_port(),
        username=username,
        password=password,
        params=params,
        tls_mode=spec.tls.mode,
        ca_pem=credentials.ca_pem,
        client_cert_pem=credentials.client_cert_pem,
        client_key_pem=credentials.client_key_pem,
        connect_timeout=spec.options.connect_timeout_seconds,
        application_name=spec.options.application_name,
        allow_cleartext_password=spec.options.allow_cleartext_password,
    )


def _parse_url(
    spec: DatabaseConnectionSpec, raw: str
) -> tuple[str | None, int | None, str | None, str | None, dict[str, str]]:
    ref = spec.url_secret_ref
    where = f'Secret "{ref.name}" key "{ref.key}"' if ref else "the connection URL"
    try:
        url = make_url(raw.strip())
    except (ArgumentError, ValueError):
        # Never include the text: it carries the password.
        raise InvalidConnection(
            f"{where} does not hold a URL of the form {spec.engine.value}://user:password@host:port/database"
        ) from None
    scheme = url.drivername.split("+", 1)[0]
    if not _same_family(_SCHEME_ALIASES.get(scheme, scheme), spec.engine):
        raise InvalidConnection(f'{where} holds a "{scheme}" URL but spec.engine is {spec.engine.value}')
    query = {k: v if isinstance(v, str) else v[-1] for k, v in url.query.items()}
    return url.host, url.port, url.username, url.password, query


def _same_family(scheme: str, engine: Engine) -> bool:
    try:
        return family(scheme) is family(engine)
    except UnknownDialect:
        return False
