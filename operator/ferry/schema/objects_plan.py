"""PostgreSQL objects beyond tables: compare the source's with the target's, into operations.

PostgreSQL to PostgreSQL only. An object is carried when what it depends on is carried: a
table selected under its own name with all its columns (a view or trigger would break on a
renamed or missing column), a partition's parent, the views a view reads. Objects that read
nothing of the schema (extensions, types, functions) are always carried.

A target that already has an object with the same statements is left alone; one that has it
with other statements is left alone as well and named in a warning: replacing a function or a
view the target's application uses is not a migration's call. Nothing is dropped.

A domain the target has with other defaults, NOT NULL or checks is altered in schema mode diff
(ferry.schema.pg_domain_diff). Objects Ferry does not carry (event triggers, publications,
operators, foreign tables, ...) are named, and are plan errors when a selected table depends on
one the target lacks (ferry.schema.objects_named).

Phases: extensions, text-search dictionaries and configurations, types, partitions, routines and
casts before the rows; exclusion constraints, inheritance (`ALTER TABLE ... INHERIT`), views
(materialized ones are filled as they are created, after the load), triggers and rules (so they
do not fire on copied rows), row-level security and comments after them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from ferry.schema.desired import Desired
from ferry.schema.mapping import TableMapping, schema_renames
from ferry.schema.model import DatabaseSchema, PgObject
from ferry.schema.objects_named import NAMED, named_objects
from ferry.schema.operations import Operation, OpKind, OpPhase, Risk
from ferry.schema.pg_domain_diff import domain_operations
from ferry.schema.pg_retarget import retarget

PRE, POST = OpPhase.PRE_DATA, OpPhase.POST_DATA

# object kind -> (operation kind, phase, label shown in plans, reason)
KINDS: dict[str, tuple[OpKind, OpPhase, str, str]] = {
    "extension": (OpKind.CREATE_EXTENSION, PRE, "extension", "the source has it"),
    "type": (OpKind.CREATE_TYPE, PRE, "type", "new type"),
    "sequence": (OpKind.CREATE_SEQUENCE, PRE, "sequence", "a column default calls nextval() on it"),
    "partition": (OpKind.CREATE_PARTITION, PRE, "partition", "new partition; rows are routed into it"),
    "function": (OpKind.CREATE_FUNCTION, PRE, "routine", "new function or procedure"),
    "aggregate": (OpKind.CREATE_AGGREGATE, PRE, "aggregate", "new aggregate"),
    "cast": (OpKind.CREATE_CAST, PRE, "cast", "new cast; casts belong to the database"),
    "exclusion": (OpKind.ADD_EXCLUSION, POST, "exclusion constraint", "fails if existing rows conflict"),
    "partition_index": (OpKind.CREATE_PARTITION_INDEX, POST, "partition index", "new index of one partition"),
    "partition_constraint": (
        OpKind.ADD_PARTITION_CONSTRAINT, POST, "partition constraint", "fails if existing rows violate it",
    ),
    "view": (OpKind.CREATE_VIEW, POST, "view", "new view"),
    "materialized_view": (
        OpKind.CREATE_MATERIALIZED_VIEW, POST, "materialized view", "new; filled from the loaded rows",
    ),
    "view_index": (OpKind.CREATE_VIEW_INDEX, POST, "index", "new index of a materialized view"),
    "trigger": (OpKind.CREATE_TRIGGER, POST, "trigger", "made after the load: does not fire on copied rows"),
    "row_security": (OpKind.ENABLE_ROW_SECURITY, POST, "row level security", "as on the source"),
    "policy": (OpKind.CREATE_POLICY, POST, "policy", "new row level security policy"),
    "comment": (OpKind.COMMENT, POST, "comment", "as on the source"),
    "text_search_dictionary": (
        OpKind.CREATE_TEXT_SEARCH_DICTIONARY, PRE, "text search dictionary", "new text search dictionary",
    ),
    "text_search_configuration": (
        OpKind.CREATE_TEXT_SEARCH_CONFIGURATION, PRE, "text search configuration",
        "new text search configuration with its mappings",
    ),
    "rule": (OpKind.CREATE_RULE, POST, "rule", "made after the load: does not rewrite copied rows"),
    "inherits": (
        OpKind.INHERIT_TABLE, POST, "inheritance of",
        "joins its parents after the load: each row stays in its table, reads of a parent include it once",
    ),
}  # fmt: skip
# read to be named in the plan, never created
_NAMED_ONLY = {"grants", "unsupported", "hidden_rows", *NAMED}


@dataclass
class ObjectPlan:
    operations: list[Operation] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def whole_tables(source: DatabaseSchema, mappings: Sequence[TableMapping]) -> set[str]:
    """Selected tables that keep their name and every column's name: objects on them carry over."""
    out = set()
    for m in mappings:
        table = source.tables[m.source_table]
        copied = {c.name for c in table.columns if not c.generated}
        if m.target_table == m.source_table and {(c.source, c.target) for c in m.columns} == {
            (n, n) for n in copied
        }:
            out.add(m.source_table)
    return out


def plan_objects(
    source: DatabaseSchema,
    target: DatabaseSchema,
    desired: Desired,
    mappings: Sequence[TableMapping],
    *,
    privileges_carried: bool = False,
    mode: str = "create",
    other_schemas: Sequence[TableMapping] = (),
) -> ObjectPlan:
    """`privileges_carried`: owners and grants are planned (ferry.schema.privileges_plan), not
    named as left behind. `mode` diff: a domain the target has with other defaults, NOT NULL or
    checks is altered to match (in mode create it is named). `other_schemas`: the mappings of
    the Migration's other listed schemas, whose qualifiers in a definition become their targets'."""
    out = ObjectPlan()
    source_schema = source.schema or "public"
    target_schema = target.schema or "public"
    carried = whole_tables(source, mappings)
    renames = schema_renames(other_schemas)
    selected = {m.source_table for m in mappings}
    have = {(o.kind, o.name): o for o in target.objects}
    named_warnings, out.errors = named_objects(source.objects, have, selected)
    out.warnings += named_warnings
    for obj in _in_dependency_order(source.objects, carried, selected, out, privileges_carried):
        kind, phase, label, reason = KINDS[obj.kind]
        statements = tuple(retarget(s, source_schema, target_schema, renames) for s in obj.statements)
        if obj.kind == "extension" and not _extension_ok(obj, target, desired, have, out):
            continue
        if obj.kind == "sequence" and not _called(obj.name, desired):
            continue
        existing = have.get((obj.kind, obj.name))
        if existing is not None:
            altered = None
            if mode == "diff" and obj.kind == "type" and existing.statements != statements:
                altered = domain_operations(target_schema, obj.name, statements, existing.statements)
            if altered is not None:
                out.operations += altered
            elif existing.statements != statements:
                out.warnings.append(
                    f"{label} {obj.name} exists on the target with a different definition; left as is"
                )
            continue
        out.operations.append(
            Operation(
                kind,
                target_schema,
                obj.name,
                Risk.SAFE,
                reason,
                f"{label} {obj.name}",
                phase=phase,
                statements=statements,
                after_tables=bool(obj.depends) and obj.kind == "function",
            )
        )
    return out


def source_read_errors(source: DatabaseSchema, mappings: Sequence[TableMapping]) -> list[str]:
    """Selected PostgreSQL source tables whose rows row-level security hides from the source user
    (whatever the target): the copy reads with row_security = off and would fail on them."""
    selected = {m.source_table for m in mappings}
    return [
        f"{o.name}: row-level security hides rows from the source user, so the copy "
        "cannot read them all: connect as the table's owner (without FORCE) or a role with BYPASSRLS"
        for o in source.objects
        if o.kind == "hidden_rows" and o.name in selected
    ]


def _in_dependency_order(
    objects: Iterable[PgObject],
    carried: set[str],
    selected: set[str],
    out: ObjectPlan,
    privileges_carried: bool = False,
) -> list[PgObject]:
    """Carried objects, each after what it depends on; the others named in warnings."""
    pending = [o for o in objects if o.kind not in _NAMED_ONLY]
    grants = [  # a table's (and its columns') when it is selected; the schema's other objects' always
        o.name
        for o in objects
        if o.kind == "grants" and all(d in selected for d in o.depends) and not privileges_carried
    ]
    if grants:
        out.warnings.append(
            f"ownership and grants are not carried (set them on the target): {', '.join(grants)}"
        )
    out.warnings += [f"{o.name} is not carried (ordered-set aggregates are not supported)" for o in objects
                     if o.kind == "unsupported"]  # fmt: skip
    ordered: list[PgObject] = []
    carried = set(carried)
    progress = True
    while pending and progress:
        progress = False
        for obj in list(pending):
            if all(d in carried for d in obj.depends):
                ordered.append(obj)
                pending.remove(obj)
                if obj.kind in ("partition", "view", "materialized_view"):
                    carried.add(obj.name)
                progress = True
    for obj in pending:
        missing = [d for d in obj.depends if d not in carried]
        why = ", ".join(
            f"{d} is renamed or has columns left out" if d in selected else f"{d} is not carried"
            for d in missing
        )
        out.warnings.append(f"{KINDS[obj.kind][2]} {obj.name} not created: {why}")
    return ordered


def _called(sequence: str, desired: Desired) -> bool:
    """Whether a desired column default calls nextval() on the sequence (serials that become
    identity columns do not: their sequence is the identity's own)."""
    pattern = re.compile(rf"nextval\('(?:[^']*\.)?\"?{re.escape(sequence)}\"?'")
    return any(c.default and pattern.search(c.default) for t in desired.tables.values() for c in t.columns)


def _extension_ok(
    obj: PgObject,
    target: DatabaseSchema,
    desired: Desired,
    have: dict[tuple[str, str], PgObject],
    out: ObjectPlan,
) -> bool:
    """Whether to create the extension: not when the target has it (in whatever schema), nor when
    the target server cannot install it (a plan error if a selected column's type comes from it)."""
    if ("extension", obj.name) in have:
        return False
    if obj.name not in target.available_extensions:
        users = [
            f"{t.name}.{c.name}"
            for t in desired.tables.values()
            for c in t.columns
            if (c.domain or c.type.removesuffix("[]").split("(")[0]) in obj.provides
        ]
        if users:
            out.errors.append(
                f"extension {obj.name} is not available on the target server (pg_available_extensions) "
                f"and {', '.join(users)} use its types: install it there or leave those columns out"
            )
        else:
            out.warnings.append(
                f"extension {obj.name} is not available on the target server; no selected column uses it, "
                "it is not created"
            )
        return False
    return True
