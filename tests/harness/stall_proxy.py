"""A TCP proxy in front of a real database server that makes it slow or makes it hang.

`delay`: every chunk, either way, is held that many seconds (a slow network or server).
`hang_after_login`: PostgreSQL only; once the server has said ReadyForQuery the first time, what
the client sends is swallowed: the login succeeds and the first query never gets an answer (a
server stuck behind a lock, a half-dead load balancer).
The proxy runs its own event loop in one thread (`thread`), so tests can count theirs.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any

READY_FOR_QUERY = b"Z\x00\x00\x00\x05"


class StallProxy:
    def __init__(self, host: str, port: int, *, delay: float = 0.0, hang_after_login: bool = False) -> None:
        self.upstream = (host, port)
        self.delay = delay
        self.hang_after_login = hang_after_login
        self.port = 0
        self.connections = 0  # accepted so far
        self.active = 0  # open now
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self.thread = threading.Thread(target=self._serve, name="stall-proxy", daemon=True)
        self._server: asyncio.AbstractServer | None = None

    def start(self) -> StallProxy:
        self.thread.start()
        self._ready.wait(10)
        return self

    def stop(self) -> None:
        """Close every proxied connection (a probe still hanging gets a connection error)."""

        async def shutdown() -> None:
            if self._server is not None:
                self._server.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self.thread.join(10)
        self._loop.close()

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._server = self._loop.run_until_complete(asyncio.start_server(self._client, "127.0.0.1", 0))
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        self._loop.run_forever()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.close()
            return
        logged_in = asyncio.Event()
        self.active += 1
        try:
            await asyncio.gather(
                self._pipe(reader, up_writer, swallow_after=logged_in if self.hang_after_login else None),
                self._pipe(up_reader, writer, mark=logged_in),
                return_exceptions=True,
            )
        finally:
            self.active -= 1

    async def _pipe(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        swallow_after: asyncio.Event | None = None,
        mark: asyncio.Event | None = None,
    ) -> Any:
        try:
            while data := await reader.read(65536):
                if mark is not None and READY_FOR_QUERY in data:
                    mark.set()
                if swallow_after is not None and swallow_after.is_set():
                    continue  # the server never sees it: the client waits for an answer forever
                if self.delay:
                    await asyncio.sleep(self.delay)
                writer.write(data)
                await writer.drain()
        finally:
            writer.close()
