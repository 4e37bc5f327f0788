"""What online mode needs from change data capture, as the services layer sees it.

`ferry.cdc` sits above the services (its capture takes a `services.planning.Side`), so the
services never import it: the reconciler's real ports and `ferry plan` are handed a `CaptureOps`
(the real one is `ferry.cdc.lifecycle.CdcCaptureOps`, made by the controller and the CLI), and
unit tests a fake. The pure parts of online mode's gate live here too:

- `online_refusals`: what Ferry does not follow yet, decided from the spec and the engines alone;
- `capture_warning`: when a capture holds too much of the source's change history.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Protocol

from ferry.api.migration import ApplyMethod, MigrationMode, MigrationSpec
from ferry.db.dialects import family
from ferry.schema.mapping import TableMapping
from ferry.services.planning import PlannedMigration, Side, plan_migration

# A slot that keeps more WAL than this is worth a Warning: the source's disk fills while the
# follower is suspended, failing or slow. wal_status 'unreserved' means past max_wal_size (the
# next checkpoint may remove WAL the slot needs), 'lost' that it already did.
WAL_RETAINED_LIMIT_BYTES = 1 << 30
BAD_WAL_STATUS = frozenset({"unreserved", "lost"})


@dataclass(frozen=True)
class CaptureHealth:
    """The capture as the source sees it. `retained_bytes`: change history held for it (a slot's
    `pg_current_wal_lsn() - restart_lsn`), None where the engine cannot tell (binlog)."""

    name: str
    exists: bool = True
    retained_bytes: int | None = None
    wal_status: str | None = None


@dataclass(frozen=True)
class FollowRecord:
    """What the bookkeeping on the target says about the follow (ferry.cdc.bookkeeping.read)."""

    start_position: str | None = None
    applied_position: str | None = None
    cutover_position: str | None = None


class CaptureOps(Protocol):
    """Online mode's database side, one call per step of the reconciler."""

    def check(self, source: Side, mappings: Sequence[TableMapping]) -> list[str]:
        """What keeps the source from being followed, each a sentence naming the fix; [] when ready."""
        ...

    def start(self, source: Side, target: Side, mappings: Sequence[TableMapping], uid: str) -> str:
        """Open the capture and record its start position on the target; returns the position.
        Idempotent: a capture that exists is kept."""
        ...

    def prepare_follow(self, spec: MigrationSpec, source: Side, target: Side, uid: str) -> None:
        """Give the target tables the keys the follower applies by (before it starts)."""
        ...

    def request_cutover(self, target: Side, uid: str, max_lag_seconds: int) -> None:
        """Ask the follower (through the bookkeeping on the target) to end at the cutover. The
        follower freezes the source itself when the spec says so (it reads the spec)."""
        ...

    def read(self, target: Side, uid: str) -> FollowRecord: ...

    def drop(self, source: Side, target: Side, uid: str, outcome: str) -> str:
        """Remove the capture from the source (slot, publication) and record `outcome` on the
        target; returns what was removed, for messages ('' when nothing was there)."""
        ...

    def health(self, source: Side, uid: str) -> CaptureHealth: ...


def online_refusals(spec: MigrationSpec, source: Side, target: Side) -> list[str]:
    """Why this online Migration cannot run in this version of Ferry, as sentences ([] when it
    can, and always for offline mode). No database is read."""
    if spec.mode != MigrationMode.ONLINE:
        return []
    problems = []
    if family(source.spec.engine) not in ("postgresql", "mysql"):
        problems.append(
            f"online mode needs change capture on the source; {source.spec.engine} has none in Ferry "
            "(use mode: offline)"
        )
    if family(target.spec.engine) != "postgresql":
        problems.append(
            f"online mode writes to a PostgreSQL target only, not yet to {target.spec.engine} "
            "(use mode: offline)"
        )
    native = spec.online.apply == ApplyMethod.NATIVE
    if native and (family(source.spec.engine), family(target.spec.engine)) != ("postgresql", "postgresql"):
        problems.append(
            "spec.online.apply: native needs PostgreSQL on both sides (a subscription on the target); "
            "use apply: auto or ferry"
        )
    filtered = sorted(o.name for o in spec.tables.overrides if o.where)
    if filtered:
        problems.append(
            "online mode cannot follow tables with a `where` filter yet (a change can move a row into "
            f"or out of it): {', '.join(filtered)}; remove the filter or use mode: offline"
        )
    return problems


def plan_with_capture(
    spec: MigrationSpec,
    source: Side,
    target: Side,
    capture: CaptureOps | None,
    owned_tables: Sequence[str] = (),
) -> PlannedMigration:
    """`plan_migration`, and in online mode what keeps it from following added to the plan's
    errors (so `ferry plan` and the operator refuse alike, before anything runs). Without a
    `capture` only the refusals are checked, and a warning says the source was not."""
    planned = plan_migration(spec, source, target, owned_tables=owned_tables)
    if spec.mode != MigrationMode.ONLINE:
        return planned
    problems = online_refusals(spec, source, target)
    plan = planned.plan
    if not problems and capture is None:
        plan = replace(
            plan, warnings=(*plan.warnings, "online mode: the source's change capture was not checked")
        )
    elif not problems and capture is not None:
        problems = [f"online mode: {p}" for p in capture.check(source, planned.mappings)]
    plan = replace(plan, errors=(*plan.errors, *problems))
    return replace(planned, plan=plan, capture_problems=tuple(problems))


def capture_warning(health: CaptureHealth, limit_bytes: int = WAL_RETAINED_LIMIT_BYTES) -> str | None:
    """The Warning a capture deserves, or None when it is healthy."""
    if not health.exists:
        return f"the capture {health.name} is gone from the source; following cannot resume"
    if health.wal_status in BAD_WAL_STATUS:
        return (
            f"slot {health.name} has wal_status {health.wal_status}: the source is removing (or removed) "
            "WAL it still needs; resume the follower or cut over soon"
        )
    if health.retained_bytes is not None and health.retained_bytes > limit_bytes:
        return (
            f"slot {health.name} retains {health.retained_bytes / (1 << 30):.1f} GiB of WAL on the source "
            f"(limit {limit_bytes / (1 << 30):.1f} GiB); resume the follower, cut over, or delete the "
            "Migration"
        )
    return None
