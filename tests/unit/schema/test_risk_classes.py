"""Lossy and destructive changes are classified as such, with a reason a user can act on."""

from __future__ import annotations

import pytest

from ferry.schema import Column, Table, UniqueConstraint, classify_type_change
from ferry.schema.diff import diff_table


@pytest.mark.parametrize(
    ("old", "new", "risk"),
    [
        ("integer", "bigint", "safe"),
        ("smallint", "integer", "safe"),
        ("bigint", "integer", "lossy"),
        ("integer", "smallint", "lossy"),
        ("numeric(10,2)", "numeric(12,2)", "safe"),
        ("numeric(12,2)", "numeric(12,1)", "lossy"),  # scale shrinks: rounding
        ("numeric(12,2)", "numeric(10,2)", "lossy"),  # integer digits shrink: overflow
        ("numeric", "numeric(10,2)", "lossy"),
        ("integer", "numeric(10,0)", "safe"),
        ("bigint", "numeric(10,0)", "lossy"),
        ("numeric(10,2)", "integer", "lossy"),
        ("real", "double precision", "safe"),
        ("double precision", "real", "lossy"),
        ("varchar(10)", "varchar(20)", "safe"),
        ("varchar(20)", "varchar(10)", "destructive"),
        ("text", "varchar(40)", "destructive"),
        ("varchar(40)", "text", "safe"),
        ("integer", "text", "safe"),
        ("timestamp", "timestamptz", "lossy"),
        ("timestamptz(6)", "timestamptz(3)", "lossy"),
        ("timestamp(3)", "timestamp", "safe"),
        ("timestamp", "date", "lossy"),
        ("date", "timestamp", "safe"),
        ("timestamptz", "time", "destructive"),
        ("json", "jsonb", "safe"),
        ("text", "integer", "lossy"),
        ("bytea", "uuid", "lossy"),
    ],
)
def test_type_change_risk(old: str, new: str, risk: str) -> None:
    change = classify_type_change(old, new)
    assert change.risk == risk, change.reason
    assert change.reason


def _table(*columns: Column, rows: int = 100) -> Table:
    return Table("t", "public", columns, primary_key=("id",), row_estimate=rows)


ID = Column("id", "integer", nullable=False)


def test_drop_column_is_destructive_and_counts_the_rows_it_touches() -> None:
    ops = diff_table(_table(ID), _table(ID, Column("gone", "text")), defer=True)
    assert [(op.kind, op.risk, op.affected_rows) for op in ops] == [("drop_column", "destructive", 100)]
    assert "deleted" in ops[0].reason


def test_bigint_to_int_is_lossy() -> None:
    ops = diff_table(_table(ID, Column("n", "integer")), _table(ID, Column("n", "bigint")), defer=True)
    assert [(op.kind, op.risk, op.old_type) for op in ops] == [("alter_type", "lossy", "bigint")]


def test_varchar_shrink_is_destructive_truncation() -> None:
    ops = diff_table(
        _table(ID, Column("s", "varchar(5)")), _table(ID, Column("s", "varchar(50)")), defer=True
    )
    assert ops[0].risk == "destructive" and "truncation" in ops[0].reason


def test_dropping_a_default_is_lossy_and_setting_one_is_safe() -> None:
    ops = diff_table(
        _table(ID, Column("a", "integer"), Column("b", "integer", default="1")),
        _table(ID, Column("a", "integer", default="0"), Column("b", "integer")),
        defer=True,
    )
    assert {(op.kind, op.risk) for op in ops} == {("drop_default", "lossy"), ("set_default", "safe")}


def test_equal_defaults_in_different_spellings_are_no_change() -> None:
    same = diff_table(
        _table(ID, Column("s", "varchar(3)", default="'abc'"), Column("n", "integer", default="-1")),
        _table(
            ID,
            Column("s", "varchar(3)", default="'abc'::character varying"),
            Column("n", "integer", default="'-1'::integer"),
        ),
        defer=True,
    )
    assert same == []


def test_dropping_a_target_only_constraint_is_lossy_not_destructive() -> None:
    actual = Table("t", "public", (ID,), ("id",), unique_constraints=(UniqueConstraint("u", ("id",)),))
    ops = diff_table(_table(ID), actual, defer=True)
    assert [(op.kind, op.risk, op.constraint_type) for op in ops] == [("drop_constraint", "lossy", "unique")]
