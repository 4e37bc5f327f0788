"""Roll back what a Migration wrote: keep it, truncate its target tables, or drop the ones it created.

Only tables recorded in `status.createdTables` can be dropped: a migration into existing
tables never drops them.
"""

from __future__ import annotations

import sqlalchemy

from ferry.api.migration import MigrationSpec
from ferry.observability.logging import get_logger
from ferry.services.fk_deferral import RECORD, RestoreError, restore_foreign_keys
from ferry.services.planning import Side, engine_for, source_mappings
from ferry.services.rollback_sql import clear_checkpoints, drop_tables, truncate_tables

log = get_logger(__name__)


def roll_back(
    spec: MigrationSpec,
    action: str,
    source: Side,
    target: Side,
    created_tables: list[str],
    migration_uid: str,
) -> str:
    if action == "truncate":
        mappings = source_mappings(spec, source, target)
        with engine_for(target) as engine:
            done = truncate_tables(engine, mappings)
        outcome = f"truncated {len(done)} tables"
    elif action == "drop-created":
        with engine_for(target) as engine:
            dropped = drop_tables(engine, created_tables)
        outcome = f"dropped {len(dropped)} tables this migration created"
    else:
        outcome = "kept the target as it is"
    forget_checkpoints(target, migration_uid)  # nothing resumes a rolled-back copy
    return outcome + restore_note(target, migration_uid)


def restore_note(target: Side, migration_uid: str) -> str:
    """Put back the foreign keys set aside for the load; the note says what came of it."""
    try:
        with engine_for(target) as engine:
            restored = restore_foreign_keys(engine, migration_uid)
    except RestoreError as exc:
        return f"; {exc}; it and any others stay dropped, recorded in {RECORD}"
    except sqlalchemy.exc.SQLAlchemyError as exc:
        return f"; foreign keys set aside for the load may still be dropped ({RECORD}): {type(exc).__name__}"
    return f"; re-created {len(restored)} foreign keys dropped for the load" if restored else ""


def forget_checkpoints(target: Side, migration_uid: str, *, validation_results: bool = True) -> None:
    """A Migration that succeeded, was rolled back or is deleted resumes nothing: its checkpoint
    rows go, so they do not pile up (nor stay behind when its namespace is deleted with the
    connection it would need). Best effort: the rows are small, and a failure here must not undo
    a success or a rollback."""
    try:
        with engine_for(target) as engine:
            clear_checkpoints(engine, migration_uid, validation_results=validation_results)
    except sqlalchemy.exc.SQLAlchemyError as exc:
        log.warning("checkpoints of a migration not cleared", error=type(exc).__name__)
