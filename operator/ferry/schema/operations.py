"""Typed schema operations: what the diff returns, what the plan orders, what DDL rendering reads.

One dataclass with a `kind` and the model objects it needs; the risk class and the reason are
decided when the operation is made, so the plan is data that can be shown, hashed and approved.
Kinds are rendered by one function each (`ferry.schema.ddl.RENDERERS`).

Risk, phase and constraint type are StrEnums: they compare equal to their strings and print
as them, so plan JSON, status and golden files read as before.

Data operations (phase `data`) are not DDL: they record settings of the copy that destroy or
overwrite rows already in the target (truncating a table first, overwriting rows on conflict)
and how a failed load is undone, so the plan hash and the approval cover them too. Setting a
sequence (`set_sequence`) is one as well: its value is read from the source when the load
completes, so the plan holds which counter is set and from what, never the number.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from ferry.schema.model import (
    CheckConstraint,
    Column,
    EnumType,
    ForeignKey,
    Index,
    Sequence,
    SourceObject,
    Table,
    Trigger,
    UniqueConstraint,
)


class Risk(StrEnum):
    SAFE = "safe"  # every existing value is kept exactly
    LOSSY = "lossy"  # values may be rounded or fail to convert, or a guarantee is lost
    DESTRUCTIVE = "destructive"  # data is deleted or cut


class OpPhase(StrEnum):
    PRE_DATA = "pre_data"  # DDL before the rows are copied
    DATA = "data"  # a setting of the copy itself; never rendered as DDL
    POST_DATA = "post_data"  # DDL once the rows are in (keys, indexes, foreign keys)


class ConstraintType(StrEnum):
    PRIMARY_KEY = "primary_key"
    UNIQUE = "unique"
    CHECK = "check"
    FOREIGN_KEY = "foreign_key"


# The names callers outside the schema package import.
SAFE, LOSSY, DESTRUCTIVE = Risk.SAFE, Risk.LOSSY, Risk.DESTRUCTIVE
RISKS = tuple(Risk)
PRE_DATA, POST_DATA = OpPhase.PRE_DATA, OpPhase.POST_DATA


class OpKind(StrEnum):
    CREATE_SCHEMA = "create_schema"  # the PostgreSQL target schema; `table` is its name
    CREATE_ENUM = "create_enum"
    CREATE_SEQUENCE = "create_sequence"  # kept shared or standalone (typed), or one a carried default calls
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
    # PostgreSQL objects carried by their definition (ferry.schema.objects_plan).
    CREATE_EXTENSION = "create_extension"  # `table` is the extension's name
    CREATE_TYPE = "create_type"  # domain, composite or range type
    CREATE_PARTITION = "create_partition"
    CREATE_FUNCTION = "create_function"  # function or procedure
    CREATE_AGGREGATE = "create_aggregate"
    CREATE_CAST = "create_cast"  # `table` is "(source AS target)", the two types' names
    ADD_EXCLUSION = "add_exclusion"
    CREATE_PARTITION_INDEX = "create_partition_index"  # an index a partition has of its own
    ADD_PARTITION_CONSTRAINT = "add_partition_constraint"  # a key, check or foreign key of one partition
    CREATE_VIEW = "create_view"  # carried (statements) or translated from MySQL (`view`)
    CREATE_MATERIALIZED_VIEW = "create_materialized_view"
    CREATE_VIEW_INDEX = "create_view_index"  # an index of a materialized view
    CREATE_TRIGGER = "create_trigger"  # carried (statements) or made (ferry.schema.ddl_triggers)
    ENABLE_ROW_SECURITY = "enable_row_security"
    CREATE_POLICY = "create_policy"
    COMMENT = "comment"
    CREATE_TEXT_SEARCH_DICTIONARY = "create_text_search_dictionary"
    CREATE_TEXT_SEARCH_CONFIGURATION = "create_text_search_configuration"
    CREATE_RULE = "create_rule"  # CREATE RULE on a table or view (not a view's own _RETURN rule)
    INHERIT_TABLE = "inherit_table"  # ALTER TABLE child INHERIT parent, after both are loaded
    # Changes to objects the target already has, PostgreSQL to PostgreSQL (ferry.schema.pg_column_diff,
    # ferry.schema.pg_domain_diff); `statements` hold them.
    ALTER_DOMAIN = "alter_domain"  # a default, NOT NULL or check of a domain
    SET_COLUMN_DOMAIN = "set_column_domain"  # a column declared with another domain (or none)
    SET_COLLATION = "set_collation"
    SET_IDENTITY = "set_identity"  # ALWAYS / BY DEFAULT, START, INCREMENT of an identity column
    # Privileges (schema.privileges: copy, ferry.schema.privileges_plan); `statements` hold them.
    GRANT_PRIVILEGES = "grant_privileges"
    SET_OWNER = "set_owner"
    ALTER_DEFAULT_PRIVILEGES = "alter_default_privileges"  # the schema's entries, per role and object kind
    # Data operations (phase `data`).
    TRUNCATE_TABLE = "truncate_table"
    OVERWRITE_ROWS = "overwrite_rows"
    ROLLBACK_TRUNCATE = "rollback_truncate"
    ROLLBACK_DROP_TABLE = "rollback_drop_table"
    SET_SEQUENCE = "set_sequence"
    CONVERT_VALUES = "convert_values"  # source values the target has no input for (MySQL zero dates)


DATA_KINDS = frozenset(
    (
        OpKind.TRUNCATE_TABLE,
        OpKind.OVERWRITE_ROWS,
        OpKind.ROLLBACK_TRUNCATE,
        OpKind.ROLLBACK_DROP_TABLE,
        OpKind.SET_SEQUENCE,
        OpKind.CONVERT_VALUES,
    )
)


# Execution order inside one phase: drops that others depend on first (foreign keys before the
# keys they reference), then creations, then column changes, then constraints and indexes.
# Data operations come after everything else.
ORDER = {
    k: i
    for i, k in enumerate(
        [
            OpKind.CREATE_SCHEMA,
            "drop_foreign_key",
            OpKind.DROP_INDEX,
            OpKind.DROP_CONSTRAINT,
            OpKind.DROP_COLUMN,
            OpKind.DROP_TABLE,
            OpKind.CREATE_EXTENSION,
            OpKind.CREATE_TEXT_SEARCH_DICTIONARY,
            OpKind.CREATE_TEXT_SEARCH_CONFIGURATION,
            OpKind.CREATE_ENUM,
            OpKind.CREATE_TYPE,
            OpKind.ALTER_DOMAIN,
            OpKind.CREATE_SEQUENCE,
            "create_function_before_tables",
            OpKind.CREATE_TABLE,
            OpKind.CREATE_PARTITION,
            OpKind.CREATE_FUNCTION,
            OpKind.CREATE_AGGREGATE,
            OpKind.CREATE_CAST,
            OpKind.ADD_COLUMN,
            OpKind.ALTER_TYPE,
            OpKind.SET_COLUMN_DOMAIN,
            OpKind.SET_COLLATION,
            OpKind.SET_IDENTITY,
            OpKind.DROP_DEFAULT,
            OpKind.SET_DEFAULT,
            OpKind.DROP_NOT_NULL,
            OpKind.SET_NOT_NULL,
            OpKind.ADD_PRIMARY_KEY,
            OpKind.ADD_UNIQUE,
            OpKind.ADD_CHECK,
            OpKind.CREATE_INDEX,
            OpKind.ADD_FOREIGN_KEY,
            OpKind.ADD_EXCLUSION,
            OpKind.CREATE_PARTITION_INDEX,
            OpKind.ADD_PARTITION_CONSTRAINT,
            OpKind.INHERIT_TABLE,
            OpKind.CREATE_VIEW,
            OpKind.CREATE_VIEW_INDEX,
            OpKind.CREATE_TRIGGER,
            OpKind.CREATE_RULE,
            OpKind.ENABLE_ROW_SECURITY,
            OpKind.CREATE_POLICY,
            OpKind.COMMENT,
            # Grants before ownership: the migration's role owns what it created, so it may grant;
            # ALTER ... OWNER TO then hands the grants over to the new owner as their grantor.
            OpKind.GRANT_PRIVILEGES,
            OpKind.SET_OWNER,
            OpKind.ALTER_DEFAULT_PRIVILEGES,
            OpKind.CONVERT_VALUES,
            OpKind.TRUNCATE_TABLE,
            OpKind.OVERWRITE_ROWS,
            OpKind.ROLLBACK_TRUNCATE,
            OpKind.ROLLBACK_DROP_TABLE,
            OpKind.SET_SEQUENCE,
        ]
    )
}
# Views and materialized views read each other: one rank, in the dependency order they are made in.
ORDER[OpKind.CREATE_MATERIALIZED_VIEW] = ORDER[OpKind.CREATE_VIEW]


@dataclass(frozen=True)
class Operation:
    kind: OpKind
    schema: str | None
    table: str  # target table name (the enum's or the sequence's name for create_enum, *_sequence)
    risk: Risk
    reason: str
    detail: str
    affected_rows: int = 0
    phase: OpPhase = OpPhase.PRE_DATA  # always `data` for the data kinds
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
    constraint_type: ConstraintType | None = None  # drop_constraint
    user_types: tuple[str, ...] = ()  # enum types the plan creates; rendered schema-qualified
    sequence: Sequence | None = None  # create_sequence
    trigger: Trigger | None = None  # create_trigger
    statements: tuple[str, ...] = ()  # the carried PostgreSQL objects: their DDL, for the target schema
    view: SourceObject | None = None  # create_view: the translated definition
    # create_function: its signature uses a table's row type, so it is made after the tables
    # (the others come before them: defaults, checks and index expressions may call them)
    after_tables: bool = False

    def __post_init__(self) -> None:
        # Accept the plain strings too (they are what JSON and older callers hold).
        object.__setattr__(self, "kind", OpKind(self.kind))
        object.__setattr__(self, "risk", Risk(self.risk))
        phase = OpPhase.DATA if self.kind in DATA_KINDS else OpPhase(self.phase)
        if phase == OpPhase.DATA and self.kind not in DATA_KINDS:
            raise ValueError(f"{self.kind} is DDL: its phase is pre_data or post_data, not data")
        object.__setattr__(self, "phase", phase)
        if self.constraint_type is not None:
            object.__setattr__(self, "constraint_type", ConstraintType(self.constraint_type))

    @property
    def is_data(self) -> bool:
        """A setting of the copy, not a statement: never rendered as DDL."""
        return self.phase == OpPhase.DATA

    @property
    def qualified_table(self) -> str:
        return f"{self.schema}.{self.table}" if self.schema else self.table

    @property
    def order(self) -> int:
        if self.kind == OpKind.DROP_CONSTRAINT and self.constraint_type == ConstraintType.FOREIGN_KEY:
            return ORDER["drop_foreign_key"]
        if self.kind == OpKind.CREATE_FUNCTION and not self.after_tables:
            return ORDER["create_function_before_tables"]
        return ORDER[self.kind]

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": str(self.kind),
            "table": self.qualified_table,
            "detail": self.detail,
            "risk": str(self.risk),
            "reason": self.reason,
            "affectedRows": self.affected_rows,
            "phase": str(self.phase),
        }

    def fingerprint(self) -> dict[str, Any]:
        """What the plan hash covers: everything but row estimates, which drift without a schema change."""
        data = self.to_dict()
        data.pop("affectedRows")
        return data
