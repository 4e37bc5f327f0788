"""The plan: ordered operations split around the data load, warnings, errors, and a hash.

The hash covers the source and target schema hashes and the operations (without row
estimates), so an approval pins exactly this change against exactly these schemas. Data
operations (truncating or overwriting target rows) join a plan through `with_operations`,
so the hash, and with it the approval, covers them as well.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

from ferry.api.migration import PlanOperationSummary, PlanStatus
from ferry.schema import mysql_operations, privileges_plan, source_objects
from ferry.schema.desired import Desired, build_desired
from ferry.schema.diff import create_table_ops, diff_table
from ferry.schema.mapping import TableMapping
from ferry.schema.model import DatabaseSchema, EnumType
from ferry.schema.objects_plan import ObjectPlan, plan_objects, source_read_errors
from ferry.schema.operations import Operation, OpKind, OpPhase, Risk
from ferry.schema.personal_data import PersonalColumn, describe, unprotected
from ferry.schema.pg_names import as_stored, check_names
from ferry.schema.plan_warnings import missing_on_target, set_aside_warnings, source_warnings

Mode = Literal["create", "diff", "none"]
MAX_STATUS_WARNINGS = 50  # status.plan keeps the first ones and counts the rest (etcd objects stay small)
_TYPED_KINDS = (OpKind.CREATE_TABLE, OpKind.ADD_COLUMN, OpKind.ALTER_TYPE)
# What a table may still lack after its load (deferred until the rows are in; never destructive).
COMPLETING = frozenset(
    (
        OpKind.ADD_PRIMARY_KEY,
        OpKind.ADD_UNIQUE,
        OpKind.CREATE_INDEX,
        OpKind.ADD_FOREIGN_KEY,
        OpKind.CREATE_TRIGGER,
    )
) | frozenset(  # PostgreSQL objects made after the load (ferry.schema.objects_plan): additions too
    (
        OpKind.ADD_EXCLUSION,
        OpKind.CREATE_PARTITION_INDEX,
        OpKind.ADD_PARTITION_CONSTRAINT,
        OpKind.CREATE_VIEW,
        OpKind.CREATE_MATERIALIZED_VIEW,
        OpKind.CREATE_VIEW_INDEX,
        OpKind.CREATE_TRIGGER,
        OpKind.CREATE_RULE,
        OpKind.INHERIT_TABLE,
        OpKind.ENABLE_ROW_SECURITY,
        OpKind.CREATE_POLICY,
        OpKind.COMMENT,
        OpKind.GRANT_PRIVILEGES,  # schema.privileges: copy (ferry.schema.privileges_plan)
        OpKind.SET_OWNER,
        OpKind.ALTER_DEFAULT_PRIVILEGES,
    )
)


@dataclass(frozen=True)
class Privileges:
    """`schema.privileges: copy`: carry owners and grants, each source role renamed by `role_mapping`."""

    role_mapping: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Plan:
    operations: tuple[Operation, ...]
    warnings: tuple[str, ...]
    errors: tuple[str, ...]
    source_hash: str
    target_hash: str
    mode: str
    hash: str = field(default="")
    # What the copy writes besides the DDL (TableMapping.fingerprint of every table), hashed so
    # that approving a plan also pins its filters, transforms and renames; "" when not given.
    selection_hash: str = ""
    # Copied columns that look personal, and what protects each (ferry.schema.personal_data).
    personal_data: tuple[PersonalColumn, ...] = ()
    # Normalised snapshots of both sides the plan was made from (ferry.schema.snapshots); kept
    # beside the plan, not in to_dict(): a schema can be larger than the plan itself.
    snapshots: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)

    @property
    def pre_data(self) -> list[Operation]:
        return [op for op in self.operations if op.phase == OpPhase.PRE_DATA]

    @property
    def post_data(self) -> list[Operation]:
        return [op for op in self.operations if op.phase == OpPhase.POST_DATA]

    @property
    def data_operations(self) -> list[Operation]:
        """What the copy does to rows already in the target: never rendered as DDL."""
        return [op for op in self.operations if op.phase == OpPhase.DATA]

    def with_operations(self, extra: Sequence[Operation]) -> Plan:
        """This plan with `extra` added (ordered as build_plan orders) and the hash recomputed
        over all operations, so approving the result approves the extra operations too."""
        ordered = order_operations((*self.operations, *extra))
        hashed = plan_hash(self.source_hash, self.target_hash, ordered, self.selection_hash)
        return replace(self, operations=ordered, hash=hashed)

    def with_selection(self, mappings: Sequence[TableMapping]) -> Plan:
        """This plan with the mappings it copies by covered by its hash: a changed `where`,
        transform, rename or column selection then needs a new approval."""
        selection = selection_hash(mappings)
        hashed = plan_hash(self.source_hash, self.target_hash, self.operations, selection)
        return replace(self, selection_hash=selection, hash=hashed)

    def with_personal_data(self, columns: Sequence[PersonalColumn], problems: Sequence[str] = ()) -> Plan:
        """This plan with the personal columns it copies, and a warning naming the unprotected
        ones (the Project's policy may refuse them: ferry.services.gate) and each table whose
        values could not be sampled."""
        bare = unprotected(columns)
        warning = (f"personal data copied without a transform: {describe(bare)}",) if bare else ()
        return replace(self, personal_data=tuple(columns), warnings=(*self.warnings, *warning, *problems))

    @property
    def completing(self) -> list[Operation]:
        """Only the keys, unique constraints, indexes and foreign keys: what a re-plan after the
        load may apply without a new approval (it adds, never changes or drops)."""
        return [op for op in self.operations if op.kind in COMPLETING]

    def counts(self) -> dict[str, int]:
        return {risk.value: sum(1 for op in self.operations if op.risk == risk) for risk in Risk}

    def has_destructive(self) -> bool:
        return any(op.risk == Risk.DESTRUCTIVE for op in self.operations)

    def to_dict(self) -> dict[str, Any]:
        return {
            "hash": self.hash,
            "mode": self.mode,
            "sourceSchemaHash": self.source_hash,
            "targetSchemaHash": self.target_hash,
            "counts": self.counts(),
            "operations": [op.to_dict() for op in self.operations],
            "warnings": list(self.warnings),
            "errors": list(self.errors),
            "personalData": [column.to_dict() for column in self.personal_data],
        }

    def to_status(self, max_operations: int = 100) -> PlanStatus:
        """The bounded form stored in Migration.status.plan (etcd objects must stay small)."""
        counts = self.counts()
        shown = self.operations[:max_operations]
        return PlanStatus(
            hash=self.hash,
            selection_hash=self.selection_hash or None,
            source_schema_hash=self.source_hash,
            target_schema_hash=self.target_hash,
            safe=counts["safe"],
            lossy=counts["lossy"],
            destructive=counts["destructive"],
            personal_columns=len(self.personal_data),
            unprotected_personal_columns=len(unprotected(self.personal_data)),
            operations=[
                PlanOperationSummary(
                    kind=str(op.kind),
                    table=op.qualified_table,
                    detail=op.detail,
                    risk=str(op.risk),
                    reason=op.reason,
                    affected_rows=op.affected_rows,
                )
                for op in shown
            ],
            operations_omitted=len(self.operations) - len(shown),
            warnings=list(self.warnings[:MAX_STATUS_WARNINGS]),
            warnings_omitted=max(0, len(self.warnings) - MAX_STATUS_WARNINGS),
        )


def order_operations(ops: Iterable[Operation]) -> tuple[Operation, ...]:
    """Pre-data first, then by kind (`operations.ORDER`; data operations last); stable, so
    operations of one kind keep the order they were made in."""
    return tuple(sorted(ops, key=lambda op: (op.phase != OpPhase.PRE_DATA, op.order)))


def selection_hash(mappings: Sequence[TableMapping]) -> str:
    """sha256 of what the copy writes (TableMapping.fingerprint of each table): the operator
    records it with the plan, and a worker refuses to copy when its own differs."""
    # Sorted: the order tables come out of discovery is not part of what is written.
    tables = sorted((m.fingerprint() for m in mappings), key=lambda t: (t["target"], t["source"]))
    text = json.dumps(tables, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


def plan_hash(
    source_hash: str, target_hash: str, operations: tuple[Operation, ...], selection_hash: str = ""
) -> str:
    payload: dict[str, Any] = {
        "source": source_hash,
        "target": target_hash,
        "operations": [op.fingerprint() for op in operations],
    }
    if selection_hash:
        payload["selection"] = selection_hash
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def build_plan(
    source: DatabaseSchema,
    target: DatabaseSchema,
    mappings: list[TableMapping],
    *,
    mode: Mode | str,
    target_dialect: str,
    defer_constraints: bool = True,
    defer_primary_keys: bool = False,
    owned_tables: Collection[str] = (),
    privileges: Privileges | None = None,
    other_schemas: Sequence[TableMapping] = (),
) -> Plan:
    """The operations that make the target hold the mapped tables.

    `owned_tables` (schema-qualified, as `Operation.qualified_table`): tables the migration
    created itself. Mode `create` leaves existing tables alone, except that these get the keys,
    indexes and foreign keys that were deferred until their rows were in. `privileges`: carry
    owners and grants (`schema.privileges: copy`); None leaves them out, named in a warning.
    `other_schemas`: the mappings of the Migration's other source schemas (source.schemas, each
    planned on its own), so that foreign keys across them are kept.
    """
    if privileges is None:  # not planned: a GRANT on either side must not invalidate an approval
        source, target = replace(source, privileges=()), replace(target, privileges=())
    default_schema = target.schema if target_dialect == "postgresql" else None
    # MySQL needs a key on an AUTO_INCREMENT column and SQLite cannot add one later.
    defer_keys = defer_primary_keys and target_dialect == "postgresql"
    desired = build_desired(source, mappings, target_dialect, default_schema, other_schemas)
    objects = ObjectPlan()
    pg_to_pg = source.dialect == target_dialect == "postgresql"
    if pg_to_pg and mode in ("create", "diff"):
        objects = plan_objects(
            source,
            target,
            desired,
            mappings,
            privileges_carried=privileges is not None,
            mode=str(mode),
            other_schemas=other_schemas,
        )
    warnings = source_warnings(source, mappings, carried=source.dialect == target_dialect) + desired.warnings
    warnings += [f"{note}: {', '.join(where)}" for note, where in desired.notes.items()]
    errors = list(desired.errors) + source_read_errors(source, mappings) + objects.errors
    warnings += objects.warnings
    if target_dialect == "postgresql":
        names = check_names(desired.tables, desired.enums)
        warnings += names.warnings
        errors += names.errors
        desired.tables = as_stored(desired.tables)
    # A shared or standalone sequence a column keeps drawing from is planned once, typed, with the
    # counters it resets (ferry.schema.sequences); the carried-objects pass must not create it twice.
    ops: list[Operation] = [
        op
        for op in objects.operations
        if not (op.kind == OpKind.CREATE_SEQUENCE and op.table in desired.sequences)
    ]
    mode = str(mode)
    if mode == "none":
        errors += missing_on_target(desired, target)
    elif mode in ("create", "diff"):
        ops += _schema_ops(target, target_dialect)
        ops += _enum_ops(desired, target)
        ops += _sequence_ops(desired, target)
        if source.dialect == "mysql":  # PostgreSQL sources carry their own extensions (objects_plan)
            ops += mysql_operations.extension_ops(desired.tables.values(), target)
        for name, table in desired.tables.items():
            actual = target.tables.get(name)
            if actual is None:
                ops += create_table_ops(table, defer=defer_constraints, defer_key=defer_keys)
                ops += mysql_operations.trigger_ops(table, None)
            elif mode == "diff":
                ops += diff_table(table, actual, defer=defer_constraints, pg_to_pg=pg_to_pg)
                ops += mysql_operations.trigger_ops(table, actual)
            else:
                changes = diff_table(table, actual, defer=defer_constraints, pg_to_pg=pg_to_pg)
                changes += mysql_operations.trigger_ops(table, actual)
                if (f"{table.schema}.{name}" if table.schema else name) in owned_tables:
                    ops += [op for op in changes if op.kind in COMPLETING]
                    changes = [op for op in changes if op.kind not in COMPLETING]
                warnings += [
                    f"{name}: exists and is left as is (mode create): {op.kind} {op.detail}" for op in changes
                ]
    else:
        raise ValueError(f"unknown schema mode {mode!r}")
    if mode != "none" and source.dialect == "mysql" and target_dialect == "postgresql":
        ops += mysql_operations.convert_value_ops(source, mappings, default_schema)
    object_ops, object_warnings, object_errors = _source_objects(
        source, target, mappings, desired, mode, target_dialect, default_schema
    )
    ops += object_ops
    warnings += object_warnings
    errors += object_errors
    warnings += set_aside_warnings(desired, target, target_dialect)
    if privileges is not None and mode != "none":
        if pg_to_pg:
            carried = privileges_plan.plan_privileges(source, target, mappings, ops, privileges.role_mapping)
            ops += carried.operations
            warnings += carried.warnings
            errors += carried.errors
        else:
            warnings.append(privileges_plan.NOT_CARRIED)
    user_types = tuple(sorted(set(desired.enums) | desired.user_types))
    ops = [replace(op, user_types=user_types) if op.kind in _TYPED_KINDS else op for op in ops]
    ordered = order_operations(ops)
    source_hash, target_hash = source.hash(), target.hash()
    return Plan(
        operations=ordered,
        warnings=tuple(warnings),
        errors=tuple(errors),
        source_hash=source_hash,
        target_hash=target_hash,
        mode=mode,
        hash=plan_hash(source_hash, target_hash, ordered),
    )


def _source_objects(
    source: DatabaseSchema,
    target: DatabaseSchema,
    mappings: list[TableMapping],
    desired: Desired,
    mode: str,
    target_dialect: str,
    default_schema: str | None,
) -> tuple[list[Operation], list[str], list[str]]:
    """Views created or named, other objects named, missing references as errors
    (ferry.schema.source_objects)."""
    ops: list[Operation] = []
    warnings: list[str] = []
    translate = source.dialect == "mysql" and target_dialect == "postgresql" and mode != "none"
    if translate:
        ops, warnings = source_objects.view_operations(source, target, mappings, default_schema)
    warnings += source_objects.not_carried_warnings(source, views_too=not translate)
    names = {m.source_table: m.target_table for m in mappings}
    errors, missing = source_objects.reference_problems(desired, target, names)
    return ops, warnings + missing, errors


def _enum_ops(desired: Desired, target: DatabaseSchema) -> list[Operation]:
    ops = []
    schema = next((t.schema for t in desired.tables.values()), None)
    for name, enum in sorted(desired.enums.items()):
        have = target.enums.get(name)
        if have is None:
            ops.append(
                Operation(
                    OpKind.CREATE_ENUM,
                    schema,
                    name,
                    Risk.SAFE,
                    "new enum type",
                    f"enum {name} ({', '.join(enum.values)})",
                    enum=EnumType(name, enum.values, schema),
                )
            )
    return ops


def _sequence_ops(desired: Desired, target: DatabaseSchema) -> list[Operation]:
    """The standalone and shared sequences (PostgreSQL to PostgreSQL) the target lacks, with the
    source's type, bounds, increment and cycle; their value is set after the load."""
    schema = next((t.schema for t in desired.tables.values()), target.schema)
    return [
        Operation(
            OpKind.CREATE_SEQUENCE,
            schema,
            name,
            Risk.SAFE,
            "new sequence",
            f"sequence {name} {seq.type} increment {seq.increment}" + (" cycle" if seq.cycle else ""),
            sequence=seq,
        )
        for name, seq in sorted(desired.sequences.items())
        if name not in target.sequences
    ]


def _schema_ops(target: DatabaseSchema, target_dialect: str) -> list[Operation]:
    """The PostgreSQL target schema, when it does not exist yet: first, before all else."""
    if target_dialect != "postgresql" or target.schema_exists or not target.schema:
        return []
    name = target.schema
    return [Operation(OpKind.CREATE_SCHEMA, None, name, Risk.SAFE, "new schema", f"schema {name}")]
