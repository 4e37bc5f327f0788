"""Is this error a database that went away (and may come back), rather than a wrong query or row?

The copy retries a unit after such an error (ferry.copy.runner), from its last committed
checkpoint, instead of failing the pod; the operator says `DatabaseUnavailable` while it lasts.
Everything else (a constraint, a type, a permission) fails as before: retrying cannot fix it.

Evidence, most specific first, over the whole exception chain: a SQLSTATE of class 08
(connection exception) or 57P01-57P03 (the server shutting down, crashed or starting up);
asyncpg's connection errors, and its client state errors (the source side of a COPY
stream whose target connection died reports "another operation is in progress");
a MySQL client error "can't connect" or "server has gone away" / "lost connection"; an
OS-level connection error; or the drivers' words for a closed connection.
"""

from __future__ import annotations

import re

import asyncpg

from ferry.db.errors import chain

_PG_SQLSTATES = {"57P01", "57P02", "57P03"}  # admin shutdown, crash shutdown, cannot connect now
_MYSQL_CODES = {2002, 2003, 2006, 2013, 2055}  # can't connect (socket, TCP), gone away, lost connection
_TEXT = re.compile(
    r"connection refused|connection reset|server closed the connection|connection is closed|"
    r"connection was closed|terminating connection|the database system is (starting up|shutting down)|"
    r"server has gone away|lost connection|can't connect|could not connect|broken pipe|"
    r"unexpected connection_lost|connection to server .* failed|connect call failed|"
    # the class names Ferry's error text starts with (ferry.observability.errors.describe)
    r"ConnectionRefusedError|ConnectionResetError|ConnectionDoesNotExistError|CannotConnectNowError|"
    r"InternalClientError",
    re.IGNORECASE,
)


def connection_lost(exc: BaseException) -> bool:
    for item in chain(exc):
        sqlstate = getattr(item, "sqlstate", None) or getattr(item, "pgcode", None)
        if isinstance(sqlstate, str) and (sqlstate.startswith("08") or sqlstate in _PG_SQLSTATES):
            return True
        code = item.args[0] if item.args and isinstance(item.args[0], int) else None
        if code in _MYSQL_CODES:
            return True
        # A connect that times out counts too: a server starting, or a network cut.
        if isinstance(item, ConnectionError | TimeoutError | asyncpg.PostgresConnectionError):
            return True
        if isinstance(item, asyncpg.InterfaceError | asyncpg.exceptions.InternalClientError):
            # asyncpg's own state errors: what the other connection of a stream reports when its
            # peer died mid-COPY ("another operation is in progress"); a retry opens new ones.
            return True
        if _TEXT.search(str(item)):
            return True
    return False


def says_connection_lost(message: str) -> bool:
    """The same judgement from an error's text (a worker's failure message, read by the operator)."""
    return bool(_TEXT.search(message))
