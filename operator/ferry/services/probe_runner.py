"""Where connection probes run: their own small thread pool, at most one per connection.

A probe is blocking driver code, so it runs in a thread. Not the event loop's default executor:
that pool (a handful of threads on a small node) also carries every DatabaseConnection's status
writes and Secret reads, so a few databases that hang would fill it and stall the probes and
status of every other connection. Here a slow database holds one thread of PROBE_THREADS, and
only for the probe's bounded life (ferry.db.probe: PROBE_STEPS timeouts at most). A connection
whose previous probe is still running (the controller stopped waiting for it) does not start
another: the threads in use never exceed the number of connections, however long a database
hangs.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Hashable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

T = TypeVar("T")

# Probes of different connections run side by side up to this many; more wait for a free thread.
PROBE_THREADS = 16


@dataclass(frozen=True)
class Finished(Generic[T]):
    value: T


@dataclass(frozen=True)
class StillRunning:
    """The probe did not end within the wait, or the previous one of the same key still runs."""

    previous: bool  # True: no new probe was started, the one before has not ended yet


class ProbeRunner:
    def __init__(self, threads: int = PROBE_THREADS) -> None:
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="ferry-probe")
        self._running: dict[Hashable, Future[Any]] = {}
        self._lock = threading.Lock()  # done callbacks run in the pool's threads

    def busy(self, key: Hashable) -> bool:
        with self._lock:
            running = self._running.get(key)
        return running is not None and not running.done()

    async def run(self, key: Hashable, probe: Callable[[], T], wait: float) -> Finished[T] | StillRunning:
        """Run `probe` for `key` and wait up to `wait` seconds for it. Call from the event loop."""
        if self.busy(key):
            return StillRunning(previous=True)
        future: Future[T] = self._pool.submit(probe)
        with self._lock:
            self._running[key] = future
        future.add_done_callback(lambda done: self._forget(key, done))
        try:
            # shield: giving up the wait must not cancel the probe's future (it ends on its own).
            return Finished(await asyncio.wait_for(asyncio.shield(asyncio.wrap_future(future)), wait))
        except TimeoutError:
            return StillRunning(previous=False)

    def _forget(self, key: Hashable, done: Future[Any]) -> None:
        with self._lock:
            if self._running.get(key) is done:
                del self._running[key]

    def shutdown(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
