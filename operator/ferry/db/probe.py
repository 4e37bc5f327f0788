"""Is this database reachable with these credentials, and what server is it?

A probe opens one fresh connection (no pool), runs `SELECT 1`, reads the server version
and closes. Every failure becomes a `ProbeResult` with a condition reason and a message
scrubbed of secrets; a probe never raises for a database problem. The controller and
`ferry connection test` share this function.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import text

from ferry.api import conditions as c
from ferry.api.connection import DatabaseConnectionSpec, Engine
from ferry.db.credentials import Credentials
from ferry.db.deadline import SessionDeadline
from ferry.db.dialects import Family, family
from ferry.db.engines import open_engine
from ferry.db.errors import classify
from ferry.db.target import ConnectionTarget, resolve_target
from ferry.db.tls import ssl_context
from ferry.observability.redaction import redact

_VERSION_SQL = {
    Family.POSTGRESQL: "SHOW server_version",
    Family.MYSQL: "SELECT VERSION()",
    Family.SQLITE: "SELECT sqlite_version()",
}

# Reasons that no retry fixes: the spec (or the URL it points at), or the Project's connection
# rules, must change.
PERMANENT_REASONS = frozenset({c.INVALID_SPEC, c.HOST_NOT_ALLOWED, c.SECRET_NOT_ALLOWED})


@dataclass(frozen=True)
class ProbeResult:
    ok: bool
    server_version: str | None
    latency_ms: float
    reason: str
    message: str

    @property
    def permanent(self) -> bool:
        """True when retrying cannot help until the spec changes (the `Stalled` condition)."""
        return self.reason in PERMANENT_REASONS


# A probe is a connect and two queries, each bounded by `timeout`: the whole session is bounded
# by this many timeouts (ferry.db.deadline), whatever the server does.
PROBE_STEPS = 3


def probe(spec: DatabaseConnectionSpec, credentials: Credentials, timeout: float = 5.0) -> ProbeResult:
    """Connect, `SELECT 1`, read the version; bounded by `timeout` seconds per network step and
    by PROBE_STEPS timeouts in all, so the calling thread always comes back."""
    started = time.monotonic()
    deadline = SessionDeadline(timeout * PROBE_STEPS)
    secrets = credentials.secret_values()
    address = (
        spec.database if spec.engine == Engine.SQLITE else f"{spec.host}:{spec.port or spec.default_port()}"
    )
    try:
        target = resolve_target(spec, credentials)
        address = target.address
        _check_locally(target)
        with open_engine(
            spec, credentials, pool=False, connect_timeout=timeout, io_timeout=timeout
        ) as engine:
            deadline.watch(engine)
            try:
                with engine.connect() as conn:
                    conn.execute(text("SELECT 1"))
                    version = str(conn.execute(text(_VERSION_SQL[family(target.engine)])).scalar_one())
            finally:
                deadline.cancel()
    except Exception as exc:
        elapsed = (time.monotonic() - started) * 1000
        if deadline.fired:
            message = (
                f"{address} accepted the connection but did not answer within {deadline.seconds:g}s; "
                "check that the server is not overloaded or hung"
            )
            return ProbeResult(False, None, round(elapsed, 1), c.TIMEOUT, redact(message, secrets))
        found = classify(exc, spec, address, timeout)
        return ProbeResult(False, None, round(elapsed, 1), found.reason, redact(found.message, secrets))
    elapsed = (time.monotonic() - started) * 1000
    message = redact(f"connected to {address} ({target.engine.value} {version})", secrets)
    return ProbeResult(True, version, round(elapsed, 1), c.CONNECTED, message)


def _check_locally(target: ConnectionTarget) -> None:
    """Failures we can name before touching the network (and, for SQLite, before creating a file)."""
    if (
        target.engine == Engine.SQLITE
        and target.database != ":memory:"
        and not Path(target.database).is_file()
    ):
        raise FileNotFoundError(f"SQLite database file {target.database} does not exist")
    # Builds (and discards) the SSL context: a broken CA or client key is reported as such,
    # not as whatever libpq makes of it mid-handshake.
    ssl_context(target.tls_mode, target.ca_pem, target.client_cert_pem, target.client_key_pem)
