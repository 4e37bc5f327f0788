"""A domain the target already has with other defaults, NOT NULL or checks (schema mode diff).

Domains are read as `CREATE DOMAIN` (base type and collation) followed by one `ALTER DOMAIN`
statement per default, NOT NULL and named check (ferry.schema.pg_objects.types), so the difference
is the statements one side has and the other lacks: what the target lacks is added, what only the
target has is undone (its default dropped, NOT NULL dropped, check dropped), one typed operation
each with its risk. A different base type or collation cannot be altered in place: the caller
names it instead.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ferry.schema.operations import Operation, OpKind, OpPhase, Risk

_ACTION = re.compile(
    r"^ALTER DOMAIN (?P<ref>\S+) (?P<action>SET DEFAULT|SET NOT NULL|ADD CONSTRAINT)(?P<rest>.*)$", re.S
)
_CONSTRAINT = re.compile(r'^ ("(?:[^"]|"")+"|[^\s"]+) ')


def _parts(statement: str) -> tuple[str, str, str]:
    """(domain reference, action, what follows) of one ALTER DOMAIN statement."""
    match = _ACTION.match(statement)
    if match is None:  # never: ferry.schema.pg_objects.types writes these three forms only
        raise ValueError(f"not a domain statement Ferry reads: {statement[:80]}")
    return match["ref"], match["action"], match["rest"]


def domain_operations(
    schema: str, name: str, want: Sequence[str], have: Sequence[str]
) -> list[Operation] | None:
    """Operations that turn the target's domain `have` into the source's `want` (both as read,
    the source's moved to the target schema); None when the base type or collation differ."""
    if not want or not have or want[0] != have[0]:
        return None
    missing = [s for s in want[1:] if s not in have[1:]]
    extra = [s for s in have[1:] if s not in want[1:]]
    wanted = {_parts(s)[1] for s in missing}
    ops: list[Operation] = []
    for statement in extra:
        ref, action, rest = _parts(statement)
        if action == "SET DEFAULT":
            if "SET DEFAULT" not in wanted:  # a new default replaces it, no drop needed
                ops.append(
                    _op(
                        schema,
                        name,
                        f"ALTER DOMAIN {ref} DROP DEFAULT",
                        "drop default",
                        Risk.LOSSY,
                        "dropping a default: inserts that omit such a column get NULL",
                    )
                )
        elif action == "SET NOT NULL":
            ops.append(
                _op(
                    schema,
                    name,
                    f"ALTER DOMAIN {ref} DROP NOT NULL",
                    "drop not null",
                    Risk.SAFE,
                    "the domain accepts NULL",
                )
            )
        else:
            match = _CONSTRAINT.match(rest)
            assert match is not None
            ops.append(
                _op(
                    schema,
                    name,
                    f"ALTER DOMAIN {ref} DROP CONSTRAINT {match[1]}",
                    f"drop constraint {match[1]}",
                    Risk.LOSSY,
                    "constraint not in the source; data kept, a guarantee is lost",
                )
            )
    for statement in missing:
        _, action, rest = _parts(statement)
        if action == "SET DEFAULT":
            detail, risk, reason = f"set default{rest}", Risk.SAFE, "default changes for new rows only"
        elif action == "SET NOT NULL":
            detail, risk, reason = "set not null", Risk.SAFE, "fails if a column of this domain holds NULL"
        else:
            detail, risk, reason = f"add constraint{rest}", Risk.SAFE, "fails if existing values violate it"
        ops.append(_op(schema, name, statement, detail, risk, reason))
    return ops


def _op(schema: str, name: str, statement: str, detail: str, risk: Risk, reason: str) -> Operation:
    return Operation(
        OpKind.ALTER_DOMAIN, schema, name, risk, reason, f"domain {name}: {detail}",
        phase=OpPhase.PRE_DATA, statements=(statement,),
    )  # fmt: skip
