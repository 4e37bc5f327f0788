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

The worker reports both in `status.workers.<index>.sessions`; the operator turns them into
`ferry_connection_sessions` and `ferry_connection_reconnects_total` (docs/connections.md).
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import replace
from typing import Any, Literal, TypeVar

import asyncpg
import pymysql

from ferry.copy.endpoints import Endpoint, Endpoints, MySQLEndpoint, PgEndpoint

Side = Literal["source", "target"]
SIDES: tuple[Side, Side] = ("source", "target")
T = TypeVar("T")


def session_open(conn: Any) -> bool:
    """Whether the driver still holds this connection open (asyncpg, PyMySQL, asyncmy, sqlite3)."""
    if conn is None:
        return False
    if isinstance(conn, asyncpg.Connection):
        return not conn.is_closed()
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
        return Endpoints(self._wrap(endpoints.source, "source"), self._wrap(endpoints.target, "target"))

    def _wrap(self, endpoint: Endpoint, side: Side) -> Endpoint:
        if isinstance(endpoint, PgEndpoint):
            return replace(endpoint, connect=self._async(endpoint.connect, side))
        if isinstance(endpoint, MySQLEndpoint):
            return replace(
                endpoint,
                connect=self._sync(endpoint.connect, side),
                stream=self._async(endpoint.stream, side),
            )
        return replace(endpoint, connect=self._sync(endpoint.connect, side))

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
