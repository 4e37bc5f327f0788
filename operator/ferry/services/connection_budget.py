"""DatabaseConnection.spec.maxConnections across every Ferry process: who may use a capped
connection now, and how many worker pods a copy through it gets.

Why this mechanism. Workers cannot see one another (their Role reads only their own Migration)
and must go on copying while the API server is away (docs/operations.md), so slots they would
take from the API (Leases) at every connection would stop the copy with it. The operator, which
sees every Migration, divides the budget instead, once per Job:

- one Migration at a time uses a capped connection, from planning to its end (Planning, Running,
  Validating, Following, CuttingOver: the phases in which Ferry processes connect to it). Another
  Migration that needs it waits in Pending with reason WaitingForConnectionSlots, without
  connecting (one AwaitingApproval keeps its status and does not re-check its plan meanwhile);
- that Migration's copy gets the whole budget; the Job has as many pods as fit (`worker_count`),
  each holding at most `maxConnections // pods` connections to the database at once
  (ferry.copy.slots); `ferry run` is a single process and holds at most `maxConnections`;
- the connection's health probe is deferred while a Migration holds it (ferry.controllers.
  connection): the workers' progress is the evidence that it answers.

In-memory claims close the gap between admitting a Migration and its status showing Planning:
two Migrations reconciled at once cannot both be admitted. They live in the (single, leader)
operator process; after a restart the phases in the API answer alone.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from ferry.api import conditions as c
from ferry.api.connection import DatabaseConnectionSpec
from ferry.api.migration import MigrationSpec, Phase
from ferry.copy.slots import TARGET_CONNECTIONS, source_need

HOLDING_PHASES = frozenset(
    {Phase.PLANNING, Phase.RUNNING, Phase.VALIDATING, Phase.FOLLOWING, Phase.CUTTING_OVER}
)
CLAIM_SECONDS = 60.0  # an admitted Migration holds its claim this long before its phase shows it
RECHECK_SECONDS = 10.0


@dataclass(frozen=True)
class ConnectionUse:
    """One Migration of the namespace as the budget sees it."""

    migration: str
    phase: str
    connections: tuple[str, str]  # source and target connectionRef names
    reason: str | None = None  # of the Ready condition

    @property
    def on_its_way(self) -> bool:
        """Pending or Planning, and not waiting for a window or for another Migration."""
        waiting = self.reason in (c.OUTSIDE_WINDOW, c.WAITING_FOR_CONNECTION_SLOTS)
        return self.phase in (Phase.PENDING, Phase.PLANNING) and not waiting


@dataclass(frozen=True)
class Wait:
    message: str
    reason: str = c.WAITING_FOR_CONNECTION_SLOTS
    permanent: bool = False  # a budget no copy fits: Stalled until a spec changes
    retry_after: float = RECHECK_SECONDS


class Claims:
    """Which Migration was last admitted to each capped connection, and when (monotonic)."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._lock = threading.Lock()
        self._held: dict[tuple[str, str], tuple[str, float]] = {}
        self._clock = clock

    def admit(
        self, namespace: str, me: str, capped: Iterable[str], uses: Iterable[ConnectionUse]
    ) -> Wait | None:
        """Admit `me` to every connection in `capped`, or say which Migration holds one."""
        uses = [u for u in uses if u.migration != me]
        with self._lock:
            now = self._clock()
            for connection in sorted(set(capped)):
                for use in uses:
                    if connection in use.connections and use.phase in HOLDING_PHASES:
                        return _wait(connection, use.migration, use.phase)
                holder = self._held.get((namespace, connection))
                if holder is not None and holder[0] != me and now - holder[1] < CLAIM_SECONDS:
                    # Admitted and on its way to planning; not one that stopped short of the copy
                    # (awaiting approval, outside its window, deleted), which connects no more.
                    alive = any(u.migration == holder[0] and u.on_its_way for u in uses)
                    if alive:
                        return _wait(connection, holder[0], "admitted")
            for connection in set(capped):
                self._held[(namespace, connection)] = (me, now)
        return None


CLAIMS = Claims()


def _wait(connection: str, holder: str, phase: str) -> Wait:
    return Wait(
        f"DatabaseConnection {connection} sets maxConnections and Migration {holder} ({phase}) uses it; "
        "this Migration starts when that one no longer connects"
    )


def capped_connections(
    names: tuple[str, str], source: DatabaseConnectionSpec, target: DatabaseConnectionSpec
) -> list[str]:
    return [name for name, spec in zip(names, (source, target), strict=True) if spec.max_connections]


def budget_problem(
    names: tuple[str, str], source: DatabaseConnectionSpec, target: DatabaseConnectionSpec
) -> str | None:
    """Why no copy fits the budget (one unit needs more connections than maxConnections), or None."""
    for name, spec, need in (
        (names[0], source, source_need(source.engine.value, keyed=True)),
        (names[1], target, TARGET_CONNECTIONS),
    ):
        if spec.max_connections is not None and spec.max_connections < need:
            return (
                f"DatabaseConnection {name}: maxConnections {spec.max_connections} is below the {need} "
                f"connections one unit of the copy opens to a {spec.engine.value} database at once; "
                f"set it to {need} or more"
            )
    return None


def connection_jobs(parallelism: int, connection: DatabaseConnectionSpec) -> int:
    """How many connections the operator opens at once for work it spreads (the target's index
    builds after the load): `parallelism`, at most the database's maxConnections."""
    if connection.max_connections is None:
        return parallelism
    return max(1, min(parallelism, connection.max_connections))


def worker_count(parallelism: int, source: DatabaseConnectionSpec, target: DatabaseConnectionSpec) -> int:
    """The copy Job's pods: `parallelism`, fewer when a capped database's budget would not give
    each pod room for one unit (`budget_problem` refused what fits no pod at all)."""
    count = max(1, parallelism)
    if source.max_connections is not None:
        count = min(count, source.max_connections // source_need(source.engine.value, keyed=True))
    if target.max_connections is not None:
        count = min(count, target.max_connections // TARGET_CONNECTIONS)
    return max(1, count)


class Admission(Protocol):
    """What the admission needs from the reconciler's ports."""

    def connection_uses(self, namespace: str) -> list[ConnectionUse]: ...


def connection_admission(
    ports: Admission,
    namespace: str,
    name: str,
    spec: MigrationSpec,
    source: DatabaseConnectionSpec,
    target: DatabaseConnectionSpec,
) -> Wait | None:
    """None when the Migration may connect (it now holds its capped connections); else why not."""
    names = (spec.source.connection_ref.name, spec.target.connection_ref.name)
    problem = budget_problem(names, source, target)
    if problem is not None:
        return Wait(problem, c.INVALID_SPEC, permanent=True)
    capped = capped_connections(names, source, target)
    if not capped:
        return None
    return CLAIMS.admit(namespace, name, capped, ports.connection_uses(namespace))
