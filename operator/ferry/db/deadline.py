"""A hard deadline on one database session: its socket is shut down when the time is up.

Drivers bound connecting (libpq's and PyMySQL's connect_timeout) and PyMySQL bounds each read,
but psycopg waits for a query's answer as long as the socket stays open: a server (or a proxy, a
half-dead load balancer) that accepts the login and then never answers would hold the calling
thread forever, and a probe repeated every interval would leak one thread each time. Shutting
the socket down wakes the driver at once with a connection error, so the session ends and its
thread returns.

The socket is shut down through a duplicate of its descriptor, and only while the session
still owns it: `cancel` runs before the connection closes (SQLAlchemy's `invalidate` and `close`
pool events), waits for a firing deadline to finish and stops any later one, so a descriptor number
reused by another socket is never touched. The clock starts as soon as the driver has connected,
before SQLAlchemy's first queries on a new connection (it reads the server version itself).
"""

from __future__ import annotations

import os
import socket
import threading
from typing import Any

import sqlalchemy
from sqlalchemy import event


def socket_fileno(dbapi_connection: Any) -> int | None:
    """The socket descriptor of a DB-API connection: psycopg's `fileno()`, PyMySQL's `_sock`."""
    fileno = getattr(dbapi_connection, "fileno", None)
    if callable(fileno):
        return int(fileno())
    sock = getattr(dbapi_connection, "_sock", None)
    return int(sock.fileno()) if sock is not None else None


class SessionDeadline:
    """`arm(fileno)` starts the clock; after `seconds` the socket is shut down (`fired`)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.fired = False
        self._lock = threading.Lock()
        self._done = False
        self._timer: threading.Timer | None = None

    def watch(self, engine: sqlalchemy.Engine) -> None:
        """Arm on the engine's first new connection, stand down before any is closed."""
        # insert=True: before the dialect's own first-connect queries, which may hang as well.
        event.listen(engine, "connect", lambda dbapi, _record: self.arm(socket_fileno(dbapi)), insert=True)
        event.listen(engine, "invalidate", lambda *_: self.cancel())
        event.listen(engine, "close", lambda *_: self.cancel())

    def arm(self, fileno: int | None) -> None:
        if fileno is None or self._timer is not None:
            return
        self._timer = threading.Timer(self.seconds, self._fire, args=(fileno,))
        self._timer.daemon = True
        self._timer.start()

    def _fire(self, fileno: int) -> None:
        with self._lock:
            if self._done:
                return
            self.fired = True
            try:
                with socket.socket(fileno=os.dup(fileno)) as sock:
                    sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass  # already closed by the peer: the driver sees that on its own

    def cancel(self) -> None:
        """Stop the clock; after this returns the socket is never touched again."""
        with self._lock:
            self._done = True
        if self._timer is not None:
            self._timer.cancel()
            self._timer.join()
