"""Owners and grants of the carried objects (`schema.privileges: copy`), PostgreSQL to PostgreSQL.

The source's owner and grants of every carried table, view, materialized view, standalone
sequence and routine become `grant_privileges` and `set_owner` operations after the load, with
each role renamed by `schema.roleMapping` (PUBLIC stays PUBLIC). Only what the target lacks is
granted, so a re-plan after the apply is empty; a grant the target has and the source does not
is named in a warning, never revoked (it is the target application's); on an object the plan
creates, a default grant the source revoked (EXECUTE from PUBLIC) is revoked. A role that does not
exist on the target is a plan error naming it, so no GRANT fails half-way through an apply.

Grants come before ownership: the migration's role owns what it created and may grant on it;
`ALTER ... OWNER TO` then makes the new owner the grantor of those grants.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ferry.schema.mapping import TableMapping
from ferry.schema.model import DatabaseSchema, Grant
from ferry.schema.operations import Operation, OpKind, OpPhase, Risk
from ferry.schema.pg_retarget import quote

NOT_CARRIED = "privileges are only carried between PostgreSQL databases"

# GRANT's object keyword by kind (TABLE for the rest: views and materialized views are granted as tables).
_GRANT_ON = {
    "sequence": "SEQUENCE",
    "procedure": "PROCEDURE",
    "function": "FUNCTION",
    "aggregate": "FUNCTION",
}
_ALTER = {
    "table": "TABLE",
    "view": "VIEW",
    "materialized_view": "MATERIALIZED VIEW",
    "sequence": "SEQUENCE",
    "function": "FUNCTION",
    "procedure": "PROCEDURE",
    "aggregate": "AGGREGATE",
}
# Operations that make an object of the source under the source's name (`table` is that name).
_CREATES = {
    OpKind.CREATE_VIEW: "view",
    OpKind.CREATE_MATERIALIZED_VIEW: "materialized_view",
    OpKind.CREATE_SEQUENCE: "sequence",
    OpKind.CREATE_FUNCTION: "routine",
    OpKind.CREATE_AGGREGATE: "routine",
}


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
    have = {(_family(p.kind), p.name): p for p in target.privileges}
    created = {(_family(_CREATES[op.kind]), op.table) for op in planned if op.kind in _CREATES}
    tables = {m.source_table: m.target_table for m in mappings}
    missing: dict[str, list[str]] = {}
    for obj in source.privileges:
        name = tables.get(obj.name) if obj.kind == "table" else obj.name
        key = (_family(obj.kind), name or "")
        if name is None or (obj.kind != "table" and key not in created and key not in have):
            continue  # not carried: the plan names it elsewhere (ferry.schema.objects_plan)
        label = f"{obj.kind.replace('_', ' ')} {name}"
        owner = role_mapping.get(obj.owner, obj.owner)
        grants = {
            Grant(role_mapping.get(g.grantee, g.grantee), g.privilege, g.grantable)
            for g in obj.grants
            if role_mapping.get(g.grantee, g.grantee) != owner  # the owner's are implicit
        }
        for role in sorted({owner, *(g.grantee for g in grants)} - {"PUBLIC"}):
            if role not in target.roles:
                missing.setdefault(role, []).append(label)
        actual = have.get(key)
        # An object the plan creates starts with the target's default grants (EXECUTE to PUBLIC
        # on a routine): those the source revoked are revoked (a SECURITY DEFINER function kept
        # from PUBLIC on the source stays so). On an existing object they are the target's own.
        current = set(actual.grants) if actual else _defaults(obj.kind)
        lacking = sorted(grants - current, key=_order)
        extra = sorted(current - grants, key=_order)
        revoked = extra if actual is None else []
        if lacking or revoked:
            out.operations.append(_grant_op(schema, obj.kind, name, label, lacking, revoked))
        if extra and actual is not None:
            out.warnings.append(
                f"{label}: the target also grants {_list(extra)}, which the source does not; left as is"
            )
        if actual is None or actual.owner != owner:
            out.operations.append(_owner_op(schema, obj.kind, name, label, obj.owner, owner))
    out.errors += [
        f"role {role} does not exist on the target (used by {', '.join(labels)}): create it there "
        "or map its source role to an existing one in schema.roleMapping"
        for role, labels in sorted(missing.items())
    ]
    return out


def _family(kind: str) -> str:
    """Routines share one namespace of signatures; relations one of names."""
    return "routine" if kind in ("function", "procedure", "aggregate", "routine") else "relation"


def _ref(schema: str, kind: str, name: str) -> str:
    if _family(kind) == "routine":
        proname, args = name.split("(", 1)
        return f"{quote(schema)}.{quote(proname)}({args}"
    return f"{quote(schema)}.{quote(name)}"


def _order(g: Grant) -> tuple[str, str, bool]:
    return (g.grantee, g.privilege, g.grantable)


def _list(grants: Sequence[Grant]) -> str:
    return "; ".join(
        f"{g.privilege} to {g.grantee}" + (" with grant option" if g.grantable else "") for g in grants
    )


def _owner_op(schema: str, kind: str, name: str, label: str, source_role: str, owner: str) -> Operation:
    statement = f"ALTER {_ALTER[kind]} {_ref(schema, kind, name)} OWNER TO {quote(owner)}"
    reason = "owner on the source" + (f" ({source_role}, mapped)" if source_role != owner else "")
    return Operation(
        OpKind.SET_OWNER, schema, name, Risk.SAFE, reason, f"{label} owner {owner}",
        phase=OpPhase.POST_DATA, statements=(statement,),
    )  # fmt: skip


def _defaults(kind: str) -> set[Grant]:
    """What PostgreSQL grants on a new object of this kind besides its owner's (acldefault)."""
    return {Grant("PUBLIC", "EXECUTE")} if _family(kind) == "routine" else set()


def _grant_op(
    schema: str, kind: str, name: str, label: str, grants: Sequence[Grant], revoked: Sequence[Grant]
) -> Operation:
    """One GRANT per grantee and grant option, all of the object's in one operation, then the
    REVOKE of a default grant the source does not have."""
    by_grantee: dict[tuple[str, bool], list[str]] = {}
    for g in grants:
        by_grantee.setdefault((g.grantee, g.grantable), []).append(g.privilege)
    on = f"{_GRANT_ON.get(kind, 'TABLE')} {_ref(schema, kind, name)}"
    statements = tuple(
        f"GRANT {', '.join(privileges)} ON {on} TO {_role(grantee)}"
        + (" WITH GRANT OPTION" if grantable else "")
        for (grantee, grantable), privileges in by_grantee.items()
    )
    statements += tuple(f"REVOKE {g.privilege} ON {on} FROM {_role(g.grantee)}" for g in revoked)
    detail = f"{label}: {_list(grants)}" if grants else label
    if revoked:
        detail += "; revoked: " + _list(revoked)
    return Operation(
        OpKind.GRANT_PRIVILEGES, schema, name, Risk.SAFE, "as on the source",
        detail, phase=OpPhase.POST_DATA, statements=statements,
    )  # fmt: skip


def _role(name: str) -> str:
    return name if name == "PUBLIC" else quote(name)
