"""Sessions kept open between the queries of one validation, instead of one new session per query.

Validation asks each server a few short questions per key range (a count and a digest, or the
rows of a chunk), and a table of 15M rows has 750 ranges. Each question opened its own
session: a PostgreSQL session costs a server process, about 8 ms of wall time and 3.5 ms of the
client's CPU here (100 in 0.8 s; a MariaDB session 1 ms), a fifth of a range's time when the
servers digest 20,000 rows in 20-40 ms. Inside `reused_sessions()` a finished query's session
goes back to an idle list of its endpoint and the next query on that endpoint takes it.
A PostgreSQL session opened for a block is first told to keep the memory its queries free
(ferry.copy.pg_session_memory: large texts are the ordered digest's per range).

What makes a session fit to be reused: its query ended, or was closed early by its reader (a
PostgreSQL transaction ends with it, a MySQL cursor is read to its end when closed); a session
whose query failed or was cancelled is closed, never reused. A session that went stale while
idle (the server restarted, or cut it) answers no ping and is replaced by a new one, so a
database that came back between two ranges costs nothing more than it did before.

The sessions are the process's own: a ContextVar holds the idle lists, so the tasks a
validation starts share them and nothing outside a `reused_sessions()` block sees them. They
count in the process's sessions ledger (ferry.copy.sessions) while they are held, as any other.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextvars import ContextVar
from types import TracebackType
from typing import Any

from ferry.copy.endpoints import MySQLEndpoint, PgEndpoint
from ferry.copy.pg_session_memory import keep_freed_memory

Session = Any  # an asyncpg connection or an asyncmy one
Opener = Callable[[Any], Awaitable[Session]]


class _Idle:
    """Idle sessions per endpoint (by identity: an endpoint is one database's factories)."""

    def __init__(self) -> None:
        self.sessions: dict[int, tuple[PgEndpoint | MySQLEndpoint, list[Session]]] = {}
        self.closed = False  # the block ended: a session given back later is closed instead

    def put(self, endpoint: PgEndpoint | MySQLEndpoint, session: Session) -> None:
        self.sessions.setdefault(id(endpoint), (endpoint, []))[1].append(session)

    def take(self, endpoint: PgEndpoint | MySQLEndpoint) -> Session | None:
        entry = self.sessions.get(id(endpoint))
        return entry[1].pop() if entry and entry[1] else None

    async def close(self) -> None:
        self.closed = True
        for endpoint, sessions in self.sessions.values():
            for session in sessions:
                await _close(endpoint, session)
        self.sessions.clear()


_IDLE: ContextVar[_Idle | None] = ContextVar("ferry_reused_sessions", default=None)


async def _close(endpoint: PgEndpoint | MySQLEndpoint, session: Session) -> None:
    with contextlib.suppress(Exception):
        if isinstance(endpoint, PgEndpoint):
            await session.close(timeout=5)
        else:
            await session.ensure_closed()  # says goodbye (COM_QUIT): the server ends it at once


async def _alive(endpoint: PgEndpoint | MySQLEndpoint, session: Session) -> bool:
    try:
        if isinstance(endpoint, PgEndpoint):
            if session.is_closed():
                return False
            await session.execute("SELECT 1")
        else:
            await session.ping(reconnect=False)
    except Exception:
        return False
    return True


class session:
    """`async with session(endpoint, opener) as conn`: an idle session of this endpoint inside a
    `reused_sessions()` block (or a new one from `opener`), given back when the block ends
    cleanly, closed otherwise; outside such a block, a new session closed at the end."""

    def __init__(self, endpoint: PgEndpoint | MySQLEndpoint, opener: Opener) -> None:
        self.endpoint = endpoint
        self.opener = opener
        self.idle = _IDLE.get()
        self.conn: Session = None

    async def __aenter__(self) -> Session:
        while self.idle is not None and (conn := self.idle.take(self.endpoint)) is not None:
            if await _alive(self.endpoint, conn):
                self.conn = conn
                return conn
            await _close(self.endpoint, conn)
        self.conn = await self.opener(self.endpoint)
        if self.idle is not None and isinstance(self.endpoint, PgEndpoint):
            await keep_freed_memory(self.conn)  # kept for more queries: their large texts reuse memory
        return self.conn

    async def __aexit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        # GeneratorExit: the reader closed its stream early, after the query's own cleanup ran.
        if self.idle is not None and not self.idle.closed and (kind is None or kind is GeneratorExit):
            self.idle.put(self.endpoint, self.conn)
        else:
            await _close(self.endpoint, self.conn)


@contextlib.asynccontextmanager
async def reused_sessions() -> AsyncIterator[None]:
    """Queries inside reuse each other's finished sessions; all are closed when the block ends."""
    idle = _Idle()
    token = _IDLE.set(idle)
    try:
        yield
    finally:
        _IDLE.reset(token)
        await idle.close()
