"""Owners and grants of the carried objects (`schema.privileges: copy`), PostgreSQL to PostgreSQL.

The source's owner and grants of every carried table, view, materialized view, standalone
sequence, routine, type and domain, the grants on carried columns, on the sequences of identity
and serial columns and on the schema itself, and the schema's `ALTER DEFAULT PRIVILEGES` entries,
become `grant_privileges`, `alter_default_privileges` and `set_owner` operations after the load,
with each role renamed by `schema.roleMapping` (PUBLIC stays PUBLIC). Only what the target lacks is
granted, so a re-plan after the apply is empty; a grant the target has and the source does not is
named in a warning, never revoked (it is the target application's); on an object the plan creates,
a default grant the source revoked (EXECUTE or USAGE from PUBLIC) is revoked. A role that does not
exist on the target is a plan error naming it, so no GRANT fails half-way through an apply.

Grants come before ownership: the migration's role owns what it created and may grant on it;
`ALTER ... OWNER TO` then makes the new owner the grantor of those grants.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ferry.schema import privilege_sql as sql
from ferry.schema.mapping import TableMapping
from ferry.schema.model import DatabaseSchema, Grant, ObjectPrivileges
from ferry.schema.operations import Operation, OpKind, OpPhase, Risk

NOT_CARRIED = "privileges are only carried between PostgreSQL databases"

# Operations that make an object of the source under the source's name (`table` is that name).
_CREATES = {
    OpKind.CREATE_VIEW: "view",
    OpKind.CREATE_MATERIALIZED_VIEW: "materialized_view",
    OpKind.CREATE_SEQUENCE: "sequence",
    OpKind.CREATE_FUNCTION: "routine",
    OpKind.CREATE_AGGREGATE: "routine",
    OpKind.CREATE_TYPE: "type",
    OpKind.CREATE_ENUM: "type",
}
_LABELS = {"owned_sequence": "sequence of", "materialized_view": "materialized view"}


@dataclass
class PrivilegePlan:
    operations: list[Operation] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def plan_privileges(
    source: DatabaseSchema,
    target: DatabaseSchema,
    mappings: Sequence[TableMapping],
    planned: Iterable[Operation],
    role_mapping: Mapping[str, str],
) -> PrivilegePlan:
    """`planned`: the plan's other operations (which objects it creates)."""
    out = PrivilegePlan()
    schema = target.schema or "public"
    have = {_key(p.kind, p.name, p.owner): p for p in target.privileges}
    created = {(_family(_CREATES[op.kind]), op.table) for op in planned if op.kind in _CREATES}
    missing: dict[str, list[str]] = {}
    for obj in source.privileges:
        owner = role_mapping.get(obj.owner, obj.owner)
        name = _target_name(obj, source, target, mappings)
        key = _key(obj.kind, name or "", owner)
        if name is None or (_needs_object(obj.kind) and key not in created and key not in have):
            continue  # not carried: the plan names it elsewhere (ferry.schema.objects_plan)
        label = f"{_LABELS.get(obj.kind, obj.kind)} {name}"
        if obj.kind == "default_privileges":
            label = f"default privileges for {owner} on {name}"
        grants = {
            Grant(role_mapping.get(g.grantee, g.grantee), g.privilege, g.grantable)
            for g in obj.grants
            if role_mapping.get(g.grantee, g.grantee) != owner  # the owner's are implicit
        }
        roles = {*(g.grantee for g in grants), *([owner] if _carries_owner(obj.kind) else [])}
        for role in sorted(roles - {"PUBLIC"}):
            if role not in target.roles:
                missing.setdefault(role, []).append(label)
        actual = have.get(key)
        # An object the plan creates starts with the target's default grants (EXECUTE to PUBLIC
        # on a routine, USAGE on a type): those the source revoked are revoked (a SECURITY DEFINER
        # function kept from PUBLIC on the source stays so). On an existing object they are the
        # target's own.
        current = set(actual.grants) if actual else _defaults(obj.kind)
        lacking = sorted(grants - current, key=_order)
        extra = sorted(current - grants, key=_order)
        revoked = extra if actual is None else []
        if lacking or revoked:
            out.operations.append(_grant_op(schema, obj.kind, name, owner, label, lacking, revoked))
        if extra and actual is not None:
            out.warnings.append(
                f"{label}: the target also grants {_list(extra)}, which the source does not; left as is"
            )
        if _carries_owner(obj.kind) and (actual is None or actual.owner != owner):
            out.operations.append(_owner_op(schema, obj.kind, name, label, obj.owner, owner))
    out.errors += [
        f"role {role} does not exist on the target (used by {', '.join(labels)}): create it there "
        "or map its source role to an existing one in schema.roleMapping"
        for role, labels in sorted(missing.items())
    ]
    return out


def _family(kind: str) -> str:
    """Routines share one namespace of signatures; relations one of names; the rest their own."""
    if kind in sql.ROUTINES:
        return "routine"
    if kind in ("type", "domain"):
        return "type"
    if kind in ("column", "schema", "owned_sequence", "default_privileges"):
        return kind
    return "relation"


def _key(kind: str, name: str, owner: str) -> tuple[str, str]:
    """How a source object finds the target's: default privileges are per role (mapped)."""
    return (_family(kind), f"{owner} {name}" if kind == "default_privileges" else name)


def _needs_object(kind: str) -> bool:
    """Kinds carried only when the plan creates the object or the target has it (tables, columns,
    identity sequences follow the mapping; the schema and its defaults are always there)."""
    return kind not in ("table", "column", "owned_sequence", "schema", "default_privileges")


def _carries_owner(kind: str) -> bool:
    return sql.has_owner(kind)


def _target_name(
    obj: ObjectPrivileges, source: DatabaseSchema, target: DatabaseSchema, mappings: Sequence[TableMapping]
) -> str | None:
    """The object's name on the target, None when it is not carried."""
    if obj.kind == "schema":
        return target.schema or "public"
    if obj.kind == "table":
        return next((m.target_table for m in mappings if m.source_table == obj.name), None)
    if obj.kind in ("column", "owned_sequence"):
        for m in mappings:  # "table.column": the table's name may hold a dot too
            prefix = m.source_table + "."
            if not obj.name.startswith(prefix):
                continue
            column = obj.name[len(prefix) :]
            found = next((c.target for c in m.columns if c.source == column), None)
            if found is None or (obj.kind == "owned_sequence" and source.tables[m.source_table].partitioned):
                return None  # left out, or a serial of a partitioned table (kept as its own sequence)
            return f"{m.target_table}.{found}"
        return None
    return obj.name


def _order(g: Grant) -> tuple[str, str, bool]:
    return (g.grantee, g.privilege, g.grantable)


def _list(grants: Sequence[Grant]) -> str:
    return "; ".join(
        f"{g.privilege} to {g.grantee}" + (" with grant option" if g.grantable else "") for g in grants
    )


def _owner_op(schema: str, kind: str, name: str, label: str, source_role: str, owner: str) -> Operation:
    reason = "owner on the source" + (f" ({source_role}, mapped)" if source_role != owner else "")
    return Operation(
        OpKind.SET_OWNER, schema, name, Risk.SAFE, reason, f"{label} owner {owner}",
        phase=OpPhase.POST_DATA, statements=(sql.owner_statement(schema, kind, name, owner),),
    )  # fmt: skip


def _defaults(kind: str) -> set[Grant]:
    """What PostgreSQL grants on a new object of this kind besides its owner's (acldefault)."""
    if _family(kind) == "routine":
        return {Grant("PUBLIC", "EXECUTE")}
    return {Grant("PUBLIC", "USAGE")} if _family(kind) == "type" else set()


def _grant_op(
    schema: str,
    kind: str,
    name: str,
    owner: str,
    label: str,
    grants: Sequence[Grant],
    revoked: Sequence[Grant],
) -> Operation:
    """One GRANT per grantee and grant option, all of the object's in one operation, then the
    REVOKE of a default grant the source does not have."""
    by_grantee: dict[tuple[str, bool], list[str]] = {}
    for g in grants:
        by_grantee.setdefault((g.grantee, g.grantable), []).append(g.privilege)
    if kind == "default_privileges":
        statements = tuple(
            sql.default_grant(schema, name, owner, privileges, grantee, grantable)
            for (grantee, grantable), privileges in by_grantee.items()
        )
    else:
        statements = tuple(
            sql.grant(schema, kind, name, privileges, grantee, grantable)
            for (grantee, grantable), privileges in by_grantee.items()
        )
    statements += tuple(sql.revoke(schema, kind, name, g.privilege, g.grantee) for g in revoked)
    detail = f"{label}: {_list(grants)}" if grants else label
    if revoked:
        detail += "; revoked: " + _list(revoked)
    op_kind = OpKind.ALTER_DEFAULT_PRIVILEGES if kind == "default_privileges" else OpKind.GRANT_PRIVILEGES
    table = f"{owner} {name}" if kind == "default_privileges" else name
    reason = (
        "objects the role creates later get these grants"
        if kind == "default_privileges"
        else "as on the source"
    )
    return Operation(  # the schema's own grants show as the schema's name alone
        op_kind, None if kind == "schema" else schema, table, Risk.SAFE, reason, detail,
        phase=OpPhase.POST_DATA, statements=statements,
    )  # fmt: skip
