"""Apply rendered operations to a target.

PostgreSQL has transactional DDL: the whole list runs in one transaction, so a failure leaves
the target untouched. MySQL/MariaDB commit each DDL statement implicitly, so statements run one
by one and the record says which were applied before a failure; the caller can show it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import sqlalchemy as sa

from ferry.schema.ddl import render_operation
from ferry.schema.operations import Operation

# SQLite could, but pysqlite's implicit transaction handling does not wrap DDL reliably.
_TRANSACTIONAL_DDL = {"postgresql"}


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
                conn.exec_driver_sql(stmt)
                done.append(stmt)
            record.failed = None
    except sa.exc.DBAPIError as exc:
        record.error = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise ApplyError(record) from None
    record.applied = done
    return record


def _apply_step_by_step(engine: sa.Engine, statements: list[str]) -> AppliedRecord:
    record = AppliedRecord(transactional=False)
    with engine.connect() as conn:
        for stmt in statements:
            try:
                conn.exec_driver_sql(stmt)
                conn.commit()
            except sa.exc.DBAPIError as exc:
                record.failed = stmt
                record.error = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
                raise ApplyError(record) from None
            record.applied.append(stmt)
    return record
