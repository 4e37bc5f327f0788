"""Roll back what a Migration wrote: keep it, truncate its target tables, or drop the ones it created.

Only tables recorded in `status.createdTables` can be dropped: a migration into existing
tables never drops them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ferry.api.migration import MigrationSpec
from ferry.services.planning import Side, engine_for, source_mappings
from ferry.services.rollback_sql import drop_tables, truncate_tables

if TYPE_CHECKING:
    from kubernetes import client

    from ferry.services.migration import MigrationContext


class RollbackBlocked(Exception):
    """The target cannot be reached yet; deletion waits and retries."""


def roll_back(spec: MigrationSpec, action: str, source: Side, target: Side, created_tables: list[str]) -> str:
    if action == "truncate":
        mappings = source_mappings(spec, source, target)
        with engine_for(target) as engine:
            done = truncate_tables(engine, mappings)
        return f"truncated {len(done)} tables"
    if action == "drop-created":
        with engine_for(target) as engine:
            dropped = drop_tables(engine, created_tables)
        return f"dropped {len(dropped)} tables this migration created"
    return "kept the target as it is"


def roll_back_on_delete(api: client.ApiClient, ctx: MigrationContext) -> str:
    from ferry.services.migration import MigrationReconciler, Outcome

    sides = MigrationReconciler(api).connected_sides(ctx, Outcome())
    if sides is None:
        raise RollbackBlocked(ctx.status.message or "connections are not ready")
    return roll_back(
        ctx.spec, ctx.spec.rollback.on_delete.value, sides[0], sides[1], ctx.status.created_tables
    )
