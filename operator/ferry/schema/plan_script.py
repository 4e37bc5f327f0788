"""A plan as the SQL script a reviewer reads and a DBA could run (`ferry plan --sql`).

The statements are exactly those Ferry applies (`render_operation`, as `apply_plan` does), in
the order it applies them: the pre-data DDL (one transaction on PostgreSQL, as Ferry runs it),
then the data operations, which are not SQL Ferry can show ahead of time (the rows come from
the copy; sequence values are read from the source when the load ends), then the post-data
keys, indexes and triggers. Each operation is preceded by a `--` comment with its number in
the plan, kind, table, risk and reason, so the script is the plan, readable top to bottom.

Post-data runs table by table in parallel in Ferry (`apply_post_data`); in the script it runs
in plan order, which ends in the same schema.
"""

from __future__ import annotations

from collections.abc import Iterable

from ferry.schema.ddl import dialect_for, render_operation
from ferry.schema.operations import Operation, OpPhase
from ferry.schema.plan import Plan

_TRANSACTIONAL = {"postgresql"}


def _comment(text: str) -> str:
    """A one-line SQL comment: a newline in a reason must not end the comment early."""
    return "-- " + " ".join(text.split())


def _header(number: int, op: Operation) -> str:
    detail = f" ({op.detail})" if op.detail else ""
    return _comment(f"{number}. {op.kind} {op.qualified_table}{detail} [{op.risk}]: {op.reason}")


def _section(
    title: str, numbered: Iterable[tuple[int, Operation]], dialect_name: str, wrap: bool
) -> list[str]:
    ops = list(numbered)
    if not ops:
        return []
    dialect = dialect_for(dialect_name)
    lines = ["", _comment(title)]
    if wrap:
        lines.append("BEGIN;")
    for number, op in ops:
        lines.append(_header(number, op))
        lines.extend(f"{statement};" for statement in render_operation(op, dialect))
    if wrap:
        lines.append("COMMIT;")
    return lines


def plan_script(plan: Plan, dialect_name: str, migration: str) -> str:
    """The whole plan for a target of `dialect_name` ("postgresql", "mysql", "sqlite")."""
    numbered = list(enumerate(plan.operations, 1))
    transactional = dialect_name in _TRANSACTIONAL

    def phase(p: OpPhase) -> list[tuple[int, Operation]]:
        return [(n, op) for n, op in numbered if op.phase == p]

    counts = ", ".join(f"{risk} {n}" for risk, n in plan.counts().items())
    lines = [
        _comment(f"Ferry plan for Migration {migration}: mode {plan.mode}, plan hash {plan.hash}"),
        _comment(f"{len(plan.operations)} operations ({counts}); target dialect {dialect_name}"),
    ]
    lines += [_comment(f"error: {error}") for error in plan.errors]
    lines += [_comment(f"warning: {warning}") for warning in plan.warnings]
    lines += _section("pre-data: before any row is copied", phase(OpPhase.PRE_DATA), dialect_name,
                      transactional)  # fmt: skip
    data = phase(OpPhase.DATA)
    if data:
        lines += ["", _comment("data: done by the copy, not by SQL shown here")]
        lines += [_header(n, op) for n, op in data]
    lines += _section("post-data: after the rows are loaded", phase(OpPhase.POST_DATA), dialect_name,
                      wrap=False)  # fmt: skip
    return "\n".join(lines) + "\n"
