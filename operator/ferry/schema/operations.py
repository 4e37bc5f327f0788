"""Typed schema operations: what the diff returns, what the plan orders, what DDL rendering reads.

One dataclass with a `kind` and the model objects it needs; the risk class and the reason are
decided when the operation is made, so the plan is data that can be shown, hashed and approved.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from ferry.schema.model import CheckConstraint, Column, EnumType, ForeignKey, Index, Table, UniqueConstraint

SAFE, LOSSY, DESTRUCTIVE = "safe", "lossy", "destructive"
RISKS = (SAFE, LOSSY, DESTRUCTIVE)
PRE_DATA, POST_DATA = "pre_data", "post_data"


class OpKind(StrEnum):
    CREATE_ENUM = "create_enum"
    CREATE_TABLE = "create_table"
    ADD_COLUMN = "add_column"
    ALTER_TYPE = "alter_type"
    SET_NOT_NULL = "set_not_null"
    DROP_NOT_NULL = "drop_not_null"
    SET_DEFAULT = "set_default"
    DROP_DEFAULT = "drop_default"
    ADD_PRIMARY_KEY = "add_primary_key"
    ADD_UNIQUE = "add_unique"
    ADD_CHECK = "add_check"
    ADD_FOREIGN_KEY = "add_foreign_key"
    DROP_CONSTRAINT = "drop_constraint"
    CREATE_INDEX = "create_index"
    DROP_INDEX = "drop_index"
    DROP_COLUMN = "drop_column"
    DROP_TABLE = "drop_table"


# Execution order inside one phase: drops that others depend on first (foreign keys before the
# keys they reference), then creations, then column changes, then constraints and indexes.
ORDER = {
    k: i
    for i, k in enumerate(
        [
            "drop_foreign_key",
            OpKind.DROP_INDEX,
            OpKind.DROP_CONSTRAINT,
            OpKind.DROP_COLUMN,
            OpKind.DROP_TABLE,
            OpKind.CREATE_ENUM,
            OpKind.CREATE_TABLE,
            OpKind.ADD_COLUMN,
            OpKind.ALTER_TYPE,
            OpKind.DROP_DEFAULT,
            OpKind.SET_DEFAULT,
            OpKind.DROP_NOT_NULL,
            OpKind.SET_NOT_NULL,
            OpKind.ADD_PRIMARY_KEY,
            OpKind.ADD_UNIQUE,
            OpKind.ADD_CHECK,
            OpKind.CREATE_INDEX,
            OpKind.ADD_FOREIGN_KEY,
        ]
    )
}


@dataclass(frozen=True)
class Operation:
    kind: OpKind
    schema: str | None
    table: str  # target table name (the enum's name for create_enum)
    risk: str
    reason: str
    detail: str
    affected_rows: int = 0
    phase: str = PRE_DATA
    column: Column | None = None  # add_column, alter_type, *_not_null, *_default, drop_column
    old_type: str | None = None  # alter_type: the type the target has today
    table_def: Table | None = None  # create_table
    index: Index | None = None  # create_index, drop_index
    foreign_key: ForeignKey | None = None  # add_foreign_key
    unique: UniqueConstraint | None = None  # add_unique
    check: CheckConstraint | None = None  # add_check
    primary_key: tuple[str, ...] = ()  # add_primary_key
    enum: EnumType | None = None  # create_enum
    constraint_name: str | None = None  # drop_constraint
    constraint_type: str | None = None  # drop_constraint: primary_key | unique | check | foreign_key
    user_types: tuple[str, ...] = ()  # enum types the plan creates; rendered schema-qualified

    @property
    def qualified_table(self) -> str:
        return f"{self.schema}.{self.table}" if self.schema else self.table

    @property
    def order(self) -> int:
        if self.kind == OpKind.DROP_CONSTRAINT and self.constraint_type == "foreign_key":
            return ORDER["drop_foreign_key"]
        return ORDER[self.kind]

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": str(self.kind),
            "table": self.qualified_table,
            "detail": self.detail,
            "risk": self.risk,
            "reason": self.reason,
            "affectedRows": self.affected_rows,
            "phase": self.phase,
        }

    def fingerprint(self) -> dict[str, Any]:
        """What the plan hash covers: everything but row estimates, which drift without a schema change."""
        data = self.to_dict()
        data.pop("affectedRows")
        return data
