"""The operations a MySQL/MariaDB source adds to a PostgreSQL plan, each with its risk.

- `create_extension` citext (pre-data, safe), when a key column keeps a case-insensitive
  collation as citext and the target does not have the extension yet.
- `create_trigger` (post-data, safe): ON UPDATE CURRENT_TIMESTAMP as a BEFORE UPDATE trigger.
  After the load, so that `onConflict: update` does not stamp copied rows with the load time.
- `convert_values` (data, lossy): what the copy changes in values PostgreSQL cannot take,
  per table and kind, naming the columns (zero dates to NULL, TINYINT(1) values other than
  0 and 1 to true). A data operation: it recurs on every plan, as the copy does it every time.
  A column with zeroDates: error is not listed: nothing is converted, a zero date fails the copy.
"""

from __future__ import annotations

from collections.abc import Iterable

from ferry.schema import mysql_postgresql
from ferry.schema.mapping import TableMapping
from ferry.schema.model import DatabaseSchema, Table
from ferry.schema.operations import Operation, OpKind, OpPhase, Risk

_BOOLEAN_SOURCES = ("tinyint", "bool", "boolean")


def extension_ops(tables: Iterable[Table], target: DatabaseSchema) -> list[Operation]:
    uses = any(c.type == mysql_postgresql.CITEXT for t in tables for c in t.columns)
    if not uses or mysql_postgresql.CITEXT in target.extensions:
        return []
    return [
        Operation(
            OpKind.CREATE_EXTENSION,
            None,
            mysql_postgresql.CITEXT,
            Risk.SAFE,
            "case-insensitive key columns need the citext type",
            "extension citext (CREATE EXTENSION IF NOT EXISTS; a trusted extension since PostgreSQL 13)",
        )
    ]


def trigger_ops(desired: Table, actual: Table | None) -> list[Operation]:
    have = {t.name for t in actual.triggers} if actual else set()
    return [
        Operation(
            OpKind.CREATE_TRIGGER,
            desired.schema,
            desired.name,
            Risk.SAFE,
            "ON UPDATE CURRENT_TIMESTAMP of the source",
            f"trigger {t.name}: before update, sets {t.column} to CURRENT_TIMESTAMP unless set",
            phase=OpPhase.POST_DATA,
            trigger=t,
        )
        for t in desired.triggers
        if t.name not in have
    ]


def convert_value_ops(
    source: DatabaseSchema, mappings: Iterable[TableMapping], default_schema: str | None
) -> list[Operation]:
    ops = []
    for m in mappings:
        table = source.tables[m.source_table]
        zero, boolean = [], []
        for cm in m.columns:
            column = table.column(cm.source)
            if cm.transform is not None or column is None or cm.zero_dates_error:
                continue
            if mysql_postgresql.holds_zero_dates(column.type):
                relaxed = mysql_postgresql.relaxes_not_null(column)
                zero.append(cm.target + (f" ({mysql_postgresql.relaxed_reason(column)})" if relaxed else ""))
            elif cm.target_type == "boolean" and column.type.startswith(_BOOLEAN_SOURCES):
                boolean.append(cm.target)
        for columns, reason in (
            (zero, mysql_postgresql.ZERO_DATES_NOTE),
            (boolean, "TINYINT(1) values other than 0 and 1 are written as true"),
        ):
            if columns:
                ops.append(
                    Operation(
                        OpKind.CONVERT_VALUES,
                        m.target_schema or default_schema,
                        m.target_table,
                        Risk.LOSSY,
                        reason,
                        f"columns {', '.join(columns)}",
                        affected_rows=m.row_estimate,
                    )
                )
    return ops
