"""The database sessions one copy process holds, per side, and how often it opened them again.

Why counted here, at the endpoints. Every session the copy opens comes from an endpoint's
factory (ferry.copy.endpoints), but they are closed in many places (each source and target
class, the MySQL bulk reader, error paths). So the ledger wraps the factories, keeps the
connections they returned, and counts at read time those whose driver still says open; a
closed (or garbage-collected) one simply stops counting. What it reports is the client's
view: a session the server killed counts until the driver notices, which asyncpg does at once
(the server's FATAL message) and PyMySQL at the next call.

Reconnects are counted by the runner (ferry.copy.runner): each time a unit that lost its
connection is copied again, once for each side whose session was found lost (`lost_sides`).

The online follower (ferry.worker.follow) keeps a ledger too, for the sessions it holds for
days: the change stream and its control connection on the source (psycopg, or PyMySQL under
pymysqlreplication, whose connect factory `replication_connect` wraps and whose own reopening
of a lost stream counts as a reconnect) and the applier's sessions to the target.

Copy and validation workers report both in `status.workers.<index>.sessions` and
`status.validationWorkers.<index>.sessions`, the follower in `status.replication.sessions`; the
operator turns them into `ferry_connection_sessions` and `ferry_connection_reconnects_total`
(docs/connections.md).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace
from typing import Any, Literal, TypeVar

import asyncpg
import psycopg
import pymysql

from ferry.copy.endpoints import Endpoint, Endpoints, MySQLEndpoint, PgEndpoint

Side = Literal["source", "target"]
SIDES: tuple[Side, Side] = ("source", "target")
T = TypeVar("T")


def session_open(conn: Any) -> bool:
    """Whether the driver still holds this connection open (asyncpg, psycopg sync and async,
    PyMySQL, asyncmy, sqlite3)."""
    if conn is None:
        return False
    if isinstance(conn, asyncpg.Connection):
        return not conn.is_closed()
    if isinstance(conn, psycopg.Connection | psycopg.AsyncConnection):
        return not conn.closed
    if isinstance(conn, pymysql.connections.Connection):
        return bool(conn.open)
    if isinstance(conn, sqlite3.Connection):
        try:
            conn.total_changes  # noqa: B018 - raises ProgrammingError once the connection is closed
        except sqlite3.ProgrammingError:
            return False
        return True
    return bool(getattr(conn, "connected", False))  # asyncmy


class SessionLedger:
    """Connections opened through the wrapped endpoints, per side; thread-safe (PyMySQL and
    SQLite connect in worker threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._held: dict[Side, list[Any]] = {side: [] for side in SIDES}
        self._reconnects: dict[Side, int] = dict.fromkeys(SIDES, 0)

    def track(self, side: Side, conn: T) -> T:
        with self._lock:
            self._held[side].append(conn)
        return conn

    def open_sessions(self, side: Side) -> int:
        """Sessions of `side` open now; the closed ones are dropped from the ledger."""
        with self._lock:
            live = [conn for conn in self._held[side] if session_open(conn)]
            self._held[side] = live
            return len(live)

    def reconnected(self, sides: Iterable[Side]) -> None:
        with self._lock:
            for side in sides:
                self._reconnects[side] += 1

    def reconnects(self, side: Side) -> int:
        with self._lock:
            return self._reconnects[side]

    def endpoints(self, endpoints: Endpoints) -> Endpoints:
        """The same endpoints, with every session they open kept in this ledger."""
        return Endpoints(self.endpoint(endpoints.source, "source"), self.endpoint(endpoints.target, "target"))

    def endpoint(self, endpoint: Endpoint, side: Side) -> Endpoint:
        """The same endpoint, with every session it opens kept in this ledger under `side`."""
        if isinstance(endpoint, PgEndpoint):
            return replace(endpoint, connect=self._async(endpoint.connect, side))
        if isinstance(endpoint, MySQLEndpoint):
            return replace(
                endpoint,
                connect=self._sync(endpoint.connect, side),
                stream=self._async(endpoint.stream, side),
            )
        return replace(endpoint, connect=self._sync(endpoint.connect, side))

    def replication_connect(self, side: Side) -> Callable[..., pymysql.connections.Connection]:
        """A `pymysql_wrapper` for one pymysqlreplication `BinLogStreamReader` (a new one for each
        reader): it keeps the reader's connections in this ledger. A reader opens its stream and
        its control connection once each, and opens the stream again when it lost it (MySQL
        errors 2006 and 2013, inside `fetchone`): every open after the first two is a reconnect."""
        opened = 0

        def connect(**kwargs: Any) -> pymysql.connections.Connection:
            nonlocal opened
            conn = self.track(side, pymysql.connect(**kwargs))
            opened += 1
            if opened > 2:
                self.reconnected((side,))
            return conn

        return connect

    def _sync(self, connect: Callable[[], T], side: Side) -> Callable[[], T]:
        return lambda: self.track(side, connect())

    def _async(self, connect: Callable[[], Awaitable[T]], side: Side) -> Callable[[], Awaitable[T]]:
        async def tracked() -> T:
            return self.track(side, await connect())

        return tracked


def _connections(opened: Any) -> list[Any]:
    """The driver connections of a source or target object (the MySQL source's bulk reader too)."""
    if opened is None:
        return []
    blocks = getattr(opened, "blocks", None)
    return [getattr(opened, "conn", None), getattr(blocks, "conn", None)]


def lost_sides(target: Any, sources: Iterable[Any]) -> tuple[Side, ...]:
    """Which side a unit lost, judged right after it failed with a lost connection (before its
    connections are closed): the side whose connect failed (the target opens first, then the
    source), else the side with a session its driver found closed; both when neither tells."""
    sources = list(sources)
    if target is None:
        return ("target",)
    if sources[0] is None:
        return ("source",)
    dead_source = any(c is not None and not session_open(c) for s in sources for c in _connections(s))
    dead_target = any(c is not None and not session_open(c) for c in _connections(target))
    sides = tuple(side for side, dead in zip(SIDES, (dead_source, dead_target), strict=True) if dead)
    return sides or SIDES
