"""Operations as data: enums that read as their strings, one renderer per kind, data operations
that join a plan (and its hash) but are never rendered as DDL."""

from __future__ import annotations

import json
import sqlite3
from dataclasses import replace
from typing import Any

import pytest
import sqlalchemy as sa
import yaml
from sqlalchemy.dialects import mysql

from ferry.api.migration import MigrationSpec
from ferry.schema import (
    DESTRUCTIVE,
    LOSSY,
    POST_DATA,
    PRE_DATA,
    SAFE,
    ApplyError,
    Column,
    ConstraintType,
    DatabaseSchema,
    ForeignKey,
    Operation,
    OpKind,
    OpPhase,
    Plan,
    RenderError,
    Risk,
    Table,
    apply_plan,
    build_plan,
    render_ddl,
)
from ferry.schema.ddl import RENDERERS
from ferry.schema.operations import DATA_KINDS, RISKS
from ferry.schema.selection import select_tables

ID = Column("id", "integer", nullable=False, autoincrement=True)
SOURCE = DatabaseSchema(
    "postgresql",
    "public",
    {
        "users": Table("users", "public", (ID, Column("email", "text")), ("id",), row_estimate=10),
        "orders": Table(
            "orders",
            "public",
            (ID, Column("user_id", "integer")),
            ("id",),
            foreign_keys=(ForeignKey("fk_u", ("user_id",), None, "users", ("id",)),),
            row_estimate=99,
        ),
    },
)
EMPTY = DatabaseSchema("postgresql", "public")


def plan() -> Plan:
    spec = MigrationSpec.model_validate(
        {"source": {"connectionRef": {"name": "s"}}, "target": {"connectionRef": {"name": "t"}}}
    )
    mappings = select_tables(SOURCE, spec, "postgresql")
    return build_plan(SOURCE, EMPTY, mappings, mode="create", target_dialect="postgresql")


def data_op(kind: OpKind = OpKind.TRUNCATE_TABLE, table: str = "users", rows: int = 10) -> Operation:
    return Operation(kind, "public", table, Risk.DESTRUCTIVE, "a setting of the copy", "rows go", rows)


def test_enums_are_their_strings_and_the_old_constants_alias_them() -> None:
    assert (
        (SAFE, LOSSY, DESTRUCTIVE)
        == (Risk.SAFE, Risk.LOSSY, Risk.DESTRUCTIVE)
        == ("safe", "lossy", "destructive")
    )
    assert tuple(Risk) == RISKS
    assert (PRE_DATA, POST_DATA) == (OpPhase.PRE_DATA, OpPhase.POST_DATA) == ("pre_data", "post_data")
    assert OpPhase.DATA == "data" and f"{Risk.LOSSY}" == "lossy"
    assert [t.value for t in ConstraintType] == ["primary_key", "unique", "check", "foreign_key"]


def test_operation_accepts_plain_strings_and_emits_plain_strings() -> None:
    op = Operation(
        "drop_constraint", None, "t", "lossy", "r", "d", phase="post_data", constraint_type="unique"
    )  # type: ignore[arg-type]
    assert (op.kind, op.risk, op.phase, op.constraint_type) == (
        OpKind.DROP_CONSTRAINT,
        Risk.LOSSY,
        OpPhase.POST_DATA,
        ConstraintType.UNIQUE,
    )
    out = op.to_dict()
    assert all(type(v) in (str, int) for v in out.values())  # safe for yaml.safe_dump
    assert yaml.safe_dump(plan().to_dict())
    with pytest.raises(ValueError):
        Operation(OpKind.DROP_TABLE, None, "t", "risky", "r", "d")  # type: ignore[arg-type]


def test_data_operations_are_always_in_the_data_phase() -> None:
    assert data_op().phase == OpPhase.DATA and data_op().is_data
    with pytest.raises(ValueError, match="drop_table is DDL"):
        Operation(OpKind.DROP_TABLE, None, "t", Risk.DESTRUCTIVE, "r", "d", phase=OpPhase.DATA)
    assert {
        OpKind.TRUNCATE_TABLE,
        OpKind.OVERWRITE_ROWS,
        OpKind.ROLLBACK_TRUNCATE,
        OpKind.ROLLBACK_DROP_TABLE,
        OpKind.SET_SEQUENCE,  # its value is read when the load completes: not DDL
        OpKind.CONVERT_VALUES,
    } == DATA_KINDS


def test_every_kind_has_one_renderer_and_data_operations_render_as_an_error() -> None:
    assert set(RENDERERS) == set(OpKind)
    for kind in DATA_KINDS:
        with pytest.raises(RenderError, match="data operation"):
            render_ddl([data_op(kind)], "postgresql")


@pytest.mark.parametrize(
    ("kind", "constraint_type", "expected"),
    [
        (OpKind.DROP_CONSTRAINT, ConstraintType.PRIMARY_KEY, "ALTER TABLE t DROP PRIMARY KEY"),
        (OpKind.DROP_CONSTRAINT, ConstraintType.FOREIGN_KEY, "ALTER TABLE t DROP FOREIGN KEY c"),
        (OpKind.DROP_CONSTRAINT, ConstraintType.UNIQUE, "ALTER TABLE t DROP INDEX c"),
        (OpKind.DROP_CONSTRAINT, ConstraintType.CHECK, "ALTER TABLE t DROP CONSTRAINT c"),
    ],
)
def test_mariadb_renders_as_mysql(kind: OpKind, constraint_type: ConstraintType, expected: str) -> None:
    op = Operation(
        kind, None, "t", Risk.LOSSY, "r", "d", constraint_name="c", constraint_type=constraint_type
    )
    mariadb = sa.create_engine("mariadb+pymysql://u:p@h/d").dialect
    assert (
        render_ddl([op], mariadb)
        == render_ddl([op], "mariadb")
        == render_ddl([op], mysql.dialect())
        == [expected]
    )


def test_unknown_dialect_is_a_render_error() -> None:
    with pytest.raises(RenderError, match="no DDL renderer for dialect 'oracle'"):
        render_ddl([], "oracle")


def test_with_operations_appends_data_operations_last_and_rehashes() -> None:
    base = plan()
    extra = [data_op(OpKind.ROLLBACK_TRUNCATE, "orders"), data_op(OpKind.TRUNCATE_TABLE, "users")]
    grown = base.with_operations(extra)
    assert grown.operations[: len(base.operations)] == base.operations
    # ordered as build_plan orders: by kind, stable within a kind
    assert [op.kind for op in grown.data_operations] == [OpKind.TRUNCATE_TABLE, OpKind.ROLLBACK_TRUNCATE]
    assert grown.operations[-2:] == tuple(grown.data_operations)
    assert (
        grown.pre_data == base.pre_data and grown.post_data == base.post_data and base.data_operations == []
    )
    assert grown.completing == base.completing
    assert grown.hash != base.hash
    assert grown.counts() == {"safe": len(base.operations), "lossy": 0, "destructive": 2}
    assert grown.has_destructive() and not base.has_destructive()
    # render the DDL phases of a plan with data operations: they are not in them
    assert render_ddl(grown.pre_data + grown.post_data, "postgresql") == render_ddl(
        base.operations, "postgresql"
    )
    with pytest.raises(RenderError):
        render_ddl(grown.operations, "postgresql")


def test_plan_hash_covers_data_operations_but_not_row_counts() -> None:
    base = plan()
    assert base.with_operations([]).hash == base.hash  # recomputed the way build_plan computes it
    one = base.with_operations([data_op(rows=10)])
    assert base.with_operations([data_op(rows=5_000)]).hash == one.hash
    assert base.with_operations([data_op(OpKind.OVERWRITE_ROWS)]).hash != one.hash
    assert base.with_operations([data_op(), data_op(table="orders")]).hash != one.hash
    assert base.with_operations([replace(data_op(), risk=Risk.SAFE)]).hash != one.hash
    assert json.loads(json.dumps(one.to_dict()))["operations"][-1] == {
        "kind": "truncate_table",
        "table": "public.users",
        "detail": "rows go",
        "risk": "destructive",
        "reason": "a setting of the copy",
        "affectedRows": 10,
        "phase": "data",
    }


class _FailingCursor:
    """A sqlite3 cursor whose DROP TABLE fails with an error that has no message."""

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    def execute(self, statement: str, *args: Any) -> Any:
        if statement.startswith("DROP TABLE"):
            raise sqlite3.OperationalError()
        return self._cursor.execute(statement, *args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)


class _FailingConnection:
    def __init__(self) -> None:
        self._conn = sqlite3.connect(":memory:")

    def cursor(self) -> _FailingCursor:
        return _FailingCursor(self._conn.cursor())

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)


def test_apply_reports_an_error_without_a_message_by_its_type() -> None:
    engine = sa.create_engine("sqlite://", creator=_FailingConnection)
    op = Operation(OpKind.DROP_TABLE, None, "gone", Risk.DESTRUCTIVE, "r", "d")
    with pytest.raises(ApplyError) as failed:
        apply_plan(engine, [op])
    assert failed.value.record.failed == "DROP TABLE gone"
    assert failed.value.record.error == "OperationalError"
