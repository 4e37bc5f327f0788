"""Settings that destroy or overwrite target rows, as plan operations with a risk class.

A `DROP COLUMN` waits for approval; until now emptying a table that holds a million rows
(`copy.truncateTarget`) did not. These operations put such settings in the plan, with the
rows each touches, so they show in `ferry plan` and `status.plan`, change the plan hash, and
pass the same gate (ferry.services.gate) as the DDL:

| setting | on a table that | risk |
|---|---|---|
| `copy.truncateTarget` | holds rows | destructive (they are deleted) |
| `copy.onConflict: update` | holds rows | destructive (rows with a copied key are overwritten) |
| `rollback.onFailure: truncate` | holds rows before the load | destructive (those rows go too) |
| `rollback.onDelete: truncate` / `drop-created` | any | destructive (1) |
| the first three on an empty or created table; `rollback.onFailure: drop-created` | | safe (2) |

(1) deleting the Migration, maybe long after it succeeded, empties or drops what the
application relies on by then. (2) it only undoes this migration's own load.

Row counts stop at `COUNT_LIMIT`: the plan is re-made while it waits for approval, and a
count of a billion-row table each time would be a load of its own. They are not hashed;
whether a table holds rows at all is (through the risk).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

import sqlalchemy

from ferry.api.migration import MigrationSpec, OnConflict, RollbackAction
from ferry.schema import DESTRUCTIVE, SAFE, DatabaseSchema, Operation, OpKind, TableMapping
from ferry.schema.operations import OpPhase

COUNT_LIMIT = 1_000_000


def data_operations(
    spec: MigrationSpec,
    mappings: Iterable[TableMapping],
    target_schema: DatabaseSchema,
    target: sqlalchemy.Engine,
) -> list[Operation]:
    """One operation per (setting, target table) that touches rows; none when no setting does."""
    ops: list[Operation] = []
    wants_rows = (
        spec.copy_.truncate_target
        or spec.copy_.on_conflict == OnConflict.UPDATE
        or spec.rollback.on_failure == RollbackAction.TRUNCATE
    )
    # Operations name the table as the DDL does: with the target's schema even when the spec
    # leaves it to the connection's default.
    default_schema = target_schema.schema if target_schema.dialect == "postgresql" else None
    for mapping in mappings:
        if mapping.target_schema is None and default_schema is not None:
            mapping = replace(mapping, target_schema=default_schema)
        exists = mapping.target_table in target_schema.tables
        rows = count_rows(target, mapping) if exists and wants_rows else 0
        ops += _for_table(spec, mapping, exists, rows)
    return ops


def _for_table(spec: MigrationSpec, m: TableMapping, exists: bool, rows: int) -> list[Operation]:
    # Counts go in `affected_rows`, never in the detail: the detail is hashed, and an approval
    # must not go stale because the application wrote a row meanwhile.
    ops = []
    if spec.copy_.truncate_target and exists:
        ops.append(
            _op(OpKind.TRUNCATE_TABLE, m, rows, "spec.copy.truncateTarget empties the table before the load",
                "TRUNCATE before the load")
        )  # fmt: skip
    if spec.copy_.on_conflict == OnConflict.UPDATE and exists:
        ops.append(
            _op(OpKind.OVERWRITE_ROWS, m, rows, "spec.copy.onConflict update overwrites target rows whose "
                "key matches a source row", "rows with a copied key are overwritten")
        )  # fmt: skip
    on_failure, on_delete = spec.rollback.on_failure, spec.rollback.on_delete
    if on_failure == RollbackAction.TRUNCATE:
        before = rows if exists and not spec.copy_.truncate_target else 0
        ops.append(
            _op(OpKind.ROLLBACK_TRUNCATE, m, before, "spec.rollback.onFailure truncate empties the table "
                "if the migration fails", "on failure: TRUNCATE, rows there before the load included")
        )  # fmt: skip
    if on_failure == RollbackAction.DROP_CREATED and not exists:
        ops.append(
            _op(OpKind.ROLLBACK_DROP_TABLE, m, 0, "spec.rollback.onFailure drop-created drops the table "
                "this migration creates if it fails", "on failure: DROP TABLE (created by this migration)")
        )  # fmt: skip
    if on_delete == RollbackAction.TRUNCATE or (on_delete == RollbackAction.DROP_CREATED and not exists):
        kind = (
            OpKind.ROLLBACK_TRUNCATE if on_delete == RollbackAction.TRUNCATE else OpKind.ROLLBACK_DROP_TABLE
        )
        verb = "TRUNCATE" if kind == OpKind.ROLLBACK_TRUNCATE else "DROP TABLE"
        ops.append(
            Operation(kind, m.target_schema, m.target_table, DESTRUCTIVE,
                      f"spec.rollback.onDelete {on_delete.value}: deleting the Migration, even long after "
                      "it succeeded, removes every row the table holds then",
                      f"on delete of the Migration: {verb}", affected_rows=rows, phase=OpPhase.DATA)
        )  # fmt: skip
    return ops


def _op(kind: OpKind, m: TableMapping, rows: int, reason: str, detail: str) -> Operation:
    return Operation(
        kind, m.target_schema, m.target_table, DESTRUCTIVE if rows else SAFE, reason, detail,
        affected_rows=rows, phase=OpPhase.DATA,
    )  # fmt: skip


def count_rows(engine: sqlalchemy.Engine, mapping: TableMapping, limit: int = COUNT_LIMIT) -> int:
    """Rows in the target table, counted up to `limit` (a bounded scan, not a full count)."""
    table = sqlalchemy.table(mapping.target_table, schema=mapping.target_schema)
    bounded = sqlalchemy.select(sqlalchemy.literal_column("1")).select_from(table).limit(limit).subquery()
    with engine.connect() as conn:
        return int(conn.execute(sqlalchemy.select(sqlalchemy.func.count()).select_from(bounded)).scalar_one())
