"""What a migration does to the target around the copy; the same for the operator and `ferry run`.

Before the workers: the plan's pre-data DDL, `truncateTarget` (once per migration, recorded
on the target), then the target's own foreign keys set aside (ferry.services.fk_deferral).
After them: those foreign keys back, then the keys, indexes and foreign keys that were
deferred until the rows are in, from a re-plan against the loaded target that keeps only
additions (`Plan.completing`): anything else needs a new, approved plan. Last, the identity,
serial, AUTO_INCREMENT and standalone sequence counters follow the copied rows
(ferry.services.sequence_reset), so the application's next INSERT gets a new id, and the loaded
tables are vacuumed and analyzed (ferry.services.target_vacuum).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from ferry.api.migration import MigrationSpec
from ferry.copy.truncate import truncate_targets
from ferry.schema import Operation, apply_plan, apply_post_data
from ferry.services.connection_budget import connection_jobs
from ferry.services.endpoints import endpoint_for
from ferry.services.fk_deferral import DeferredKey, defer_foreign_keys, restore_foreign_keys
from ferry.services.planning import (
    PlannedMigration,
    Side,
    engine_for,
    plan_migration,
    tables_with_checkpoints,
    target_tables,
)
from ferry.services.sequence_reset import reset_sequences
from ferry.services.target_vacuum import vacuum_loaded


def prepare_target(
    target: Side, migration_uid: str, planned: PlannedMigration, truncate: bool
) -> list[DeferredKey]:
    """Pre-data DDL, truncation, foreign keys set aside; returns those keys."""
    with engine_for(target) as engine:
        if planned.plan.pre_data:
            apply_plan(engine, planned.plan.pre_data)
        if truncate:
            asyncio.run(truncate_targets(endpoint_for(target), migration_uid, planned.mappings))
        return defer_foreign_keys(engine, migration_uid, target_tables(planned.mappings))


def complete_target(
    spec: MigrationSpec,
    source: Side,
    target: Side,
    migration_uid: str,
    owned_tables: Sequence[str] | None = None,
    post_data: Sequence[Operation] | None = None,
) -> None:
    """The foreign keys set aside come back, then the deferred keys, indexes and foreign keys,
    then the counters (the plan's `set_sequence` operations, with values read now), then the
    loaded tables vacuumed and analyzed.

    `owned_tables`: the tables the migration created (mode `create` completes them); None: the
    tables its checkpoints name. `post_data`: the plan made before the load, used as it is
    unless foreign keys came back (it may then repeat one); None: always re-plan.
    Raises `RestoreError` for a foreign key the rows break, `ApplyError` for a failing statement.
    """
    with engine_for(target) as engine:
        restored = restore_foreign_keys(engine, migration_uid)
    replanned = None
    if restored or post_data is None:
        owned = tables_with_checkpoints(target, migration_uid) if owned_tables is None else owned_tables
        replanned = plan_migration(spec, source, target, owned_tables=owned, sample_values=False)
        post_data = replanned.plan.completing
    if post_data:
        with engine_for(target) as engine:
            # maxConnections: the index builds share the target's budget like the workers did.
            apply_post_data(engine, post_data, connection_jobs(spec.copy_.parallelism, target.spec))
    planned = replanned or plan_migration(spec, source, target, sample_values=False)
    reset_sequences(spec, source, target, planned=planned)  # one reflection of the source, not two
    vacuum_loaded(target, planned.mappings)
