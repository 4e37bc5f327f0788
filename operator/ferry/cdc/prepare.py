"""What the target needs between the copy and the follower: the keys changes are applied by.

The offline load builds primary keys after the rows are in (`ferry.services.target_load.
complete_target`, with the other deferred indexes, foreign keys and triggers). The follower
applies every change by key (ON CONFLICT, DELETE … WHERE key), so before it starts the key of
each followed table is built, and only that: foreign keys and triggers would make the order of
tables in a batch matter and fire on replayed rows, other unique keys may be broken for a while
by a copy that read rows at different moments. They all come at the cutover, when the target
has converged, through the same complete_target.

Then the source's position is recorded as the copy's end (`record_copy_end`): every read of the
copy happened before it.
"""

from __future__ import annotations

from collections.abc import Sequence

from ferry.api.migration import MigrationSpec
from ferry.schema import Operation, OpKind, TableMapping, apply_post_data
from ferry.services.connection_budget import connection_jobs
from ferry.services.planning import Side, engine_for, plan_migration, tables_with_checkpoints


def _key_columns(mapping: TableMapping) -> frozenset[str]:
    by_source = {c.source: c.target for c in mapping.columns}
    return frozenset(by_source.get(k, k) for k in mapping.key)


def _builds(op: Operation, key: frozenset[str]) -> bool:
    if op.kind == OpKind.ADD_PRIMARY_KEY:
        return frozenset(op.primary_key) == key
    if op.kind == OpKind.ADD_UNIQUE:
        return op.unique is not None and frozenset(op.unique.columns) == key
    return (
        op.kind == OpKind.CREATE_INDEX
        and op.index is not None
        and op.index.unique
        and not op.index.expressions
        and op.index.where is None
        and frozenset(op.index.columns) == key
    )


def key_operations(operations: Sequence[Operation], mappings: Sequence[TableMapping]) -> list[Operation]:
    """The operations that build a followed table's key: its primary key, or the unique constraint
    or plain unique index on exactly the key's columns."""
    keys = {m.qualified_target: _key_columns(m) for m in mappings}
    # A mapping without a target schema writes to the target's default one, which the plan names.
    unqualified = {m.target_table: _key_columns(m) for m in mappings if not m.target_schema}
    chosen: list[Operation] = []
    for op in operations:
        key = keys.get(op.qualified_table, unqualified.get(op.table))
        if key is not None and _builds(op, key):
            chosen.append(op)
    return chosen


def keys_for_follow(spec: MigrationSpec, source: Side, target: Side, migration_uid: str) -> list[Operation]:
    """Build the keys of the followed tables that the load deferred; returns what was built.

    A re-plan against the loaded target, as complete_target makes one (the tables the
    migration's checkpoints name are its own), so a rerun finds the keys there and builds nothing.
    """
    owned = tables_with_checkpoints(target, migration_uid)
    planned = plan_migration(spec, source, target, owned_tables=owned)
    # Only what a re-plan after the load may apply without a new approval (Plan.completing).
    operations = key_operations(planned.plan.completing, planned.mappings)
    if operations:
        with engine_for(target) as engine:
            apply_post_data(engine, operations, connection_jobs(spec.copy_.parallelism, target.spec))
    record_copy_end(source, target, migration_uid)
    return operations


def record_copy_end(source: Side, target: Side, migration_uid: str) -> None:
    """Note a source position taken now, after the copy's last read: from there on a plain replay
    is exact, so native apply may take over (ferry.cdc.native_follower). Kept once."""
    from ferry.cdc import bookkeeping, capture  # the capture's drivers load on first use

    bookkeeping.record_copy_end(target, migration_uid, capture.source_position(source))
