"""Apply rendered operations to a target.

PostgreSQL has transactional DDL: the whole list runs in one transaction, so a failure leaves
the target untouched. MySQL/MariaDB commit each DDL statement implicitly, so statements run one
by one and the record says which were applied before a failure; the caller can show it.

`apply_post_data` builds the keys and indexes of different tables at once, as `pg_restore -j`
and `pgcopydb --index-jobs` do: each table's own statements run in order in their own
transaction, foreign keys (which need the referenced keys) after all of them. The tables'
groups are not atomic together; a retry re-plans against the target and applies what is
missing (both `ferry run` and the operator do).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import sqlalchemy as sa

from ferry.observability.errors import first_line
from ferry.schema.ddl import render_operation
from ferry.schema.operations import Operation, OpKind

# SQLite could, but pysqlite's implicit transaction handling does not wrap DDL reliably.
_TRANSACTIONAL_DDL = {"postgresql"}
# Statements that touch only their own table: safe to run beside other tables' statements.
_TABLE_LOCAL = frozenset((OpKind.ADD_PRIMARY_KEY, OpKind.ADD_UNIQUE, OpKind.CREATE_INDEX, OpKind.ADD_CHECK))


@dataclass
class AppliedRecord:
    transactional: bool
    applied: list[str] = field(default_factory=list)  # statements that took effect, in order
    failed: str | None = None  # the statement that failed
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.failed is None


class ApplyError(Exception):
    """A statement failed. `record` tells what was applied (nothing, when transactional)."""

    def __init__(self, record: AppliedRecord) -> None:
        super().__init__(f"DDL failed: {record.error}\nstatement: {record.failed}")
        self.record = record


def _error_line(exc: sa.exc.DBAPIError) -> str:
    """The driver's first line (many have an empty message: then its type), redacted."""
    return first_line(exc.orig if exc.orig is not None else exc)


# Statements run as written: with no parameters given, the driver must not read `%` in a carried
# definition (`CHECK (VALUE LIKE '%@%')`) as a placeholder.
_VERBATIM = {"no_parameters": True}


def apply_plan(engine: sa.Engine, ops: Iterable[Operation]) -> AppliedRecord:
    statements = [stmt for op in ops for stmt in render_operation(op, engine.dialect)]
    if engine.dialect.name in _TRANSACTIONAL_DDL:
        return _apply_in_transaction(engine, statements)
    return _apply_step_by_step(engine, statements)


def _apply_in_transaction(engine: sa.Engine, statements: list[str]) -> AppliedRecord:
    record = AppliedRecord(transactional=True)
    done: list[str] = []
    try:
        with engine.begin() as conn:
            for stmt in statements:
                record.failed = stmt
                conn.exec_driver_sql(stmt, execution_options=_VERBATIM)
                done.append(stmt)
            record.failed = None
    except sa.exc.DBAPIError as exc:
        record.error = _error_line(exc)
        raise ApplyError(record) from None
    record.applied = done
    return record


def _apply_step_by_step(engine: sa.Engine, statements: list[str]) -> AppliedRecord:
    record = AppliedRecord(transactional=False)
    with engine.connect() as conn:
        for stmt in statements:
            try:
                conn.exec_driver_sql(stmt, execution_options=_VERBATIM)
                conn.commit()
            except sa.exc.DBAPIError as exc:
                record.failed = stmt
                record.error = _error_line(exc)
                raise ApplyError(record) from None
            record.applied.append(stmt)
    return record


def apply_post_data(engine: sa.Engine, ops: Sequence[Operation], jobs: int) -> AppliedRecord:
    """Apply the post-data operations with up to `jobs` tables' keys and indexes built at once."""
    groups: dict[str, list[Operation]] = {}
    rest: list[Operation] = []
    for op in ops:
        if op.kind in _TABLE_LOCAL:
            groups.setdefault(op.qualified_table, []).append(op)
        else:
            rest.append(op)
    if jobs <= 1 or len(groups) <= 1 or engine.dialect.name not in _TRANSACTIONAL_DDL:
        return apply_plan(engine, ops)
    record = AppliedRecord(transactional=False)
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(apply_plan, engine, group) for group in groups.values()]
    failures: list[ApplyError] = []
    for future in futures:  # all groups have ended: collect what took effect, then the first failure
        try:
            record.applied.extend(future.result().applied)
        except ApplyError as exc:
            failures.append(exc)
    if failures:
        record.failed, record.error = failures[0].record.failed, failures[0].record.error
        raise ApplyError(record)
    if rest:
        try:
            record.applied.extend(apply_plan(engine, rest).applied)
        except ApplyError as exc:
            record.failed, record.error = exc.record.failed, exc.record.error
            raise ApplyError(record) from None
    return record
