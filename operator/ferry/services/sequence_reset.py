"""Set the target's counters from the source's once the rows are in (the completion step).

Both the operator (its Validating step) and `ferry run` call this through
ferry.services.target_load.complete_target. Which counters, and how a value is chosen, is
ferry.schema.sequence_resets; the SQL is ferry.schema.sequence_sql. Each counter is read on
the source at this moment and set on the target in its own short transaction: a counter's
value is not tied to another's, and a sequence stays locked only while it is set.
Running it again is harmless: a counter is never moved backwards.
"""

from __future__ import annotations

import sqlalchemy as sa

from ferry.api.migration import MigrationSpec
from ferry.db.dialects import Family, family
from ferry.schema import sequence_sql as sql
from ferry.schema.sequence_resets import Position, SequenceReset, next_position, sequence_resets
from ferry.services.planning import PlannedMigration, Side, engine_for, plan_migration


def reset_sequences(
    spec: MigrationSpec, source: Side, target: Side, planned: PlannedMigration | None = None
) -> list[str]:
    """Set every counter of the migrated tables; returns the ones it moved ("table.column" or
    the sequence's name). `planned`: a plan made just now, whose reflection of the source is
    used instead of reflecting it again."""
    moved: list[str] = []
    if planned is None:
        planned = plan_migration(spec, source, target, sample_values=False)
    with engine_for(source) as src, engine_for(target) as dst:
        for one in planned.schema_plans:
            default_schema = one.target.schema if target.dialect == "postgresql" else None
            for reset in sequence_resets(one.source, one.mappings, target.dialect, default_schema):
                with src.connect() as conn:
                    position = sql.source_position(conn, reset)
                with dst.begin() as conn:
                    if apply_reset(conn, reset, position):
                        moved.append(reset.label)
    return moved


def apply_reset(conn: sa.Connection, reset: SequenceReset, source: Position | None) -> bool:
    """Set one counter on the target from the source's `position`; False when it stays."""
    match family(conn.dialect):
        case Family.POSTGRESQL:
            return _postgresql(conn, reset, source)
        case Family.MYSQL:
            return _mysql(conn, reset, source)
    return False  # SQLite: rowid aliases continue from max(rowid) themselves


def _postgresql(conn: sa.Connection, reset: SequenceReset, source: Position | None) -> bool:
    seq = sql.pg_target_sequence(conn, reset)
    if seq is None:
        return False
    current = sql.pg_position(conn, seq)
    if reset.options is not None and reset.sequence is None:
        sql.pg_keep_options(conn, seq, reset.options, current)  # a created sequence has them already
    floor = sql.floor(conn, reset.schema, reset.floor, reset.increment)
    position = next_position(source, floor, current, reset.increment, reset.cycle)
    if position is not None:
        sql.pg_set(conn, seq, position)
    return position is not None


def _mysql(conn: sa.Connection, reset: SequenceReset, source: Position | None) -> bool:
    assert reset.table is not None
    floor = sql.floor(conn, reset.schema, reset.floor, 1)
    current = sql.mysql_auto_increment(conn, reset.schema, reset.table)
    position = next_position(source, floor, current)
    if position is not None:
        sql.mysql_set(conn, reset.schema, reset.table, position.next(1))
    return position is not None
