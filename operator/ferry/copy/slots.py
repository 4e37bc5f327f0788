"""Connection slots (DatabaseConnection.spec.maxConnections): how many connections one copy
process may hold open to one database at once, and how many a unit needs.

A unit takes every slot it needs on a database at once, before it opens anything, and gives them
back after it closed its connections: taking them one by one could leave two units each holding
part of what they need and waiting for the rest forever. A unit that needs more slots than the
process has is refused by the operator before any Job is made (ferry.services.connection_budget),
so `hold` never waits for what cannot come.

The process's slots are its share of the connection's budget: the operator gives a copy the whole
`maxConnections` and chooses the number of worker pods so that each pod's share (`maxConnections //
workers`) fits the largest unit; `ferry run` is the only process and takes the whole budget.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

# What one unit opens on its source: the reader, a second connection that looks up the next
# batch's end key while a batch streams (keyed units), and on MySQL/MariaDB a third, asyncmy
# connection for the CSV bulk reads (ferry.copy.mysql_csv_blocks). On its target: the writer.
SOURCE_CONNECTIONS = {"postgresql": 1, "mysql": 2, "mariadb": 2, "sqlite": 0}
TARGET_CONNECTIONS = 1


def source_need(dialect: str, keyed: bool) -> int:
    """Connections one unit opens on a source of `dialect` (an upper bound)."""
    base = SOURCE_CONNECTIONS.get(dialect, 1)
    return base + (1 if keyed and base else 0)


class SlotsTooFew(ValueError):
    """A unit needs more connections than the process's share of maxConnections."""


@dataclass
class ConnectionSlots:
    """A counting semaphore over connections to one database, for one process."""

    limit: int
    in_use: int = 0
    high_water: int = 0  # the most held at once (reported, and tested)
    _free: asyncio.Condition = field(default_factory=asyncio.Condition, repr=False)

    @contextlib.asynccontextmanager
    async def hold(self, count: int) -> AsyncIterator[None]:
        """Wait until `count` slots are free together, hold them for the block."""
        if count > self.limit:  # the operator refuses this before any Job; never wait forever
            raise SlotsTooFew(
                f"a unit opens {count} connections to one database at once, but this process may open "
                f"{self.limit} (its share of maxConnections); raise maxConnections or lower parallelism"
            )
        async with self._free:
            await self._free.wait_for(lambda: self.in_use + count <= self.limit)
            self.in_use += count
            self.high_water = max(self.high_water, self.in_use)
        try:
            yield
        finally:
            async with self._free:
                self.in_use -= count
                self._free.notify_all()


@contextlib.asynccontextmanager
async def holding(slots: ConnectionSlots | None, count: int) -> AsyncIterator[None]:
    """`slots.hold(count)`, or nothing when the database sets no maxConnections."""
    if slots is None or count <= 0:
        yield
        return
    async with slots.hold(count):
        yield


def process_share(max_connections: int | None, workers: int) -> ConnectionSlots | None:
    """This process's slots on a database: its share of `maxConnections` among `workers`."""
    if max_connections is None:
        return None
    return ConnectionSlots(max(1, max_connections // max(1, workers)))
