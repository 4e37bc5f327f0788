"""A Migration deleted: spec.rollback.onDelete (keep, truncate, or drop the tables it created),
and for an online Migration the capture it opened on the source.

Deletion waits while a database cannot be reached (a replication slot must not be left behind
lightly), but not forever: after DELETE_ROLLBACK_GIVE_UP_SECONDS it gives up with a Warning
event that names what was left, and the Migration goes away. A namespace being deleted, or a
target decommissioned first, must not leave Migrations stuck on their finalizer.
"""

from __future__ import annotations

import os

from ferry.api import conditions as c
from ferry.api.migration import MigrationSpec, RollbackAction, StatusEvent
from ferry.db.outage import connection_lost
from ferry.observability.errors import describe, first_line
from ferry.observability.logging import get_logger
from ferry.services import following
from ferry.services.effective import apply_effective
from ferry.services.migration_ports import MigrationContext, MigrationPorts
from ferry.services.sides import NotReady, resolve_sides

# How long deletion waits for an unreachable database before it gives up (RollbackAbandoned);
# FERRY_DELETE_ROLLBACK_GIVE_UP_SECONDS in the operator's environment sets another bound.
DELETE_ROLLBACK_GIVE_UP_SECONDS = float(os.environ.get("FERRY_DELETE_ROLLBACK_GIVE_UP_SECONDS") or 600.0)

log = get_logger(__name__)


class RollbackBlocked(Exception):
    """A delete-time rollback cannot reach the target yet; deletion waits and retries."""


def finalize_on_delete(
    ports: MigrationPorts, ctx: MigrationContext, waited: float = 0.0
) -> StatusEvent | None:
    """The event to post once deletion may go on (None: nothing to say). Raises RollbackBlocked
    while a database cannot be reached and `waited` (how long deletion has waited so far) is
    under DELETE_ROLLBACK_GIVE_UP_SECONDS. A migration that never started copying touched
    nothing, so there is nothing to roll back."""
    try:
        return _finalize(ports, ctx)
    except RollbackBlocked as exc:
        if waited < DELETE_ROLLBACK_GIVE_UP_SECONDS:
            raise
        spec = apply_effective(ctx.spec, ctx.status.effective)
        left = "the target keeps what the migration wrote" + (
            "; its capture (replication slot or binlog position) may remain on the source"
            if following.is_online(spec) else ""
        )  # fmt: skip
        message = f"rollback on delete gave up after {waited:.0f}s: {exc}; {left}"
        return StatusEvent("Warning", c.ROLLBACK_ABANDONED, message)


def _finalize(ports: MigrationPorts, ctx: MigrationContext) -> StatusEvent | None:
    spec = apply_effective(ctx.spec, ctx.status.effective)
    action = spec.rollback.on_delete
    capture = following.is_online(spec) and following.capture_opened(ctx)
    started = ctx.status.start_time is not None
    rolls_back = action != RollbackAction.KEEP and started
    if not rolls_back and not capture:
        if started:
            _forget_checkpoints(ports, ctx, spec)
        return None
    sides = resolve_sides(ports, ctx.namespace, spec)
    if isinstance(sides, NotReady):
        raise RollbackBlocked(sides.message)  # a slot must not be left behind: deletion waits
    try:
        dropped = ports.drop_capture(spec, sides, ctx.uid, "deleted") if capture else ""
        done = (
            ports.roll_back(spec, action.value, sides, ctx.status.created_tables, ctx.uid)
            if rolls_back
            else ""
        )
    except Exception as exc:
        if connection_lost(exc):
            raise RollbackBlocked(f"a database went away: {first_line(describe(exc))}") from exc
        raise
    if not rolls_back:
        return (
            StatusEvent("Normal", c.CAPTURE_DROPPED, f"dropped {dropped} from the source")
            if dropped
            else None
        )
    done += f"; dropped {dropped} from the source" if dropped else ""
    return StatusEvent("Normal", c.ROLLED_BACK, f"rolled back on delete ({action.value}): {done}")


def _forget_checkpoints(ports: MigrationPorts, ctx: MigrationContext, spec: MigrationSpec) -> None:
    """onDelete keep: the target keeps the rows, but the checkpoints of a Migration that is gone
    would only pile up in its checkpoint table. Best effort: a target that cannot be reached
    keeps them, and deletion does not wait for it (nothing was promised to roll back)."""
    try:
        sides = resolve_sides(ports, ctx.namespace, spec)
    except Exception as exc:  # a Secret already gone, say (a namespace being deleted)
        log.info("checkpoints of a deleted migration not cleared", migration=ctx.name,
                 namespace=ctx.namespace, error=first_line(describe(exc)))  # fmt: skip
        return
    if not isinstance(sides, NotReady):
        ports.forget_checkpoints(sides.target, ctx.uid)
