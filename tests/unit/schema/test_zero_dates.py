"""zeroDates (issue 11): null relaxes NOT NULL and lists the column as lossy; error keeps NOT NULL,
is not listed, and changes the plan hash; choices name existing date columns only."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from ferry.api.migration import MigrationSpec
from ferry.schema import Column, DatabaseSchema, SelectionError, Table, build_plan, select_tables
from ferry.schema.mapping import TableMapping
from ferry.schema.plan import Plan

POSTS = Table(
    "posts",
    None,
    (
        Column("id", "int", nullable=False),
        Column("created", "datetime", nullable=False),
        Column("day", "date"),
        Column("title", "varchar(80)", nullable=False),
    ),
    ("id",),
    row_estimate=3,
)
SOURCE = DatabaseSchema("mysql", "blog", {"posts": POSTS})
EMPTY = DatabaseSchema("postgresql", "public")


def spec(copy: str | None = None, **choices: str) -> MigrationSpec:
    fragment: dict[str, Any] = {
        "source": {"connectionRef": {"name": "s"}},
        "target": {"connectionRef": {"name": "t"}},
        "tables": {"overrides": [{"name": "posts", "zeroDates": choices}]},
    }
    if copy is not None:
        fragment["copy"] = {"zeroDates": copy}
    return MigrationSpec.model_validate(fragment)


def mapped(s: MigrationSpec, source: DatabaseSchema = SOURCE) -> TableMapping:
    (mapping,) = select_tables(source, s, "postgresql")
    return mapping


def planned(s: MigrationSpec) -> Plan:
    mappings = select_tables(SOURCE, s, "postgresql")
    return build_plan(SOURCE, EMPTY, mappings, mode="create", target_dialect="postgresql").with_selection(
        mappings
    )


def converted(plan: Plan) -> list[str]:
    return [op.detail for op in plan.operations if op.kind == "convert_values"]


def column(mapping: TableMapping, name: str) -> tuple[bool, bool]:
    cm = next(c for c in mapping.columns if c.source == name)
    return cm.nullable, cm.zero_dates_error


def test_by_default_zero_dates_become_null_and_not_null_is_relaxed() -> None:
    mapping = mapped(spec())
    assert column(mapping, "created") == (True, False)
    assert converted(planned(spec())) == ["columns created (NOT NULL not kept: zeroDates null), day"]


def read_at_planning(found: str) -> DatabaseSchema:
    """SOURCE as discovery leaves it once `created` (NOT NULL) was read for zero dates."""
    created = Column("created", "datetime", nullable=False, zero_dates=found)
    columns = tuple(created if c.name == "created" else c for c in POSTS.columns)
    return DatabaseSchema("mysql", "blog", {"posts": replace(POSTS, columns=columns)})


def plan_of(source: DatabaseSchema, s: MigrationSpec) -> Plan:
    mappings = select_tables(source, s, "postgresql")
    return build_plan(source, EMPTY, mappings, mode="create", target_dialect="postgresql")


def test_a_not_null_column_without_zero_dates_keeps_not_null_and_fails_on_a_later_one() -> None:
    clean = read_at_planning("none")
    assert column(mapped(spec(), clean), "created") == (False, True)  # as zeroDates: error
    assert converted(plan_of(clean, spec())) == ["columns day"]
    # The column's own zeroDates: null relaxes it anyway, without reading.
    assert column(mapped(spec(created="null"), clean), "created") == (True, False)


def test_a_relaxed_column_says_why_in_the_plan() -> None:
    assert converted(plan_of(read_at_planning("found"), spec())) == [
        "columns created (NOT NULL not kept: it holds zero dates), day"
    ]
    assert converted(plan_of(read_at_planning("not-read"), spec())) == [
        "columns created (NOT NULL not kept: not read, the table has over 2,000,000 rows), day"
    ]
    assert column(mapped(spec(), read_at_planning("found")), "created") == (True, False)


def test_error_keeps_not_null_and_leaves_the_column_out_of_the_lossy_operation() -> None:
    mapping = mapped(spec(created="error"))
    assert column(mapping, "created") == (False, True)
    assert column(mapping, "day") == (True, False)
    plan = planned(spec(created="error"))
    assert converted(plan) == ["columns day"]
    assert any("fails the copy (zeroDates: error)" in w and "posts.created" in w for w in plan.warnings)
    assert not any("written as NULL" in w and "posts.created" in w for w in plan.warnings)


def test_the_copy_wide_default_applies_and_a_column_choice_overrides_it() -> None:
    everything = mapped(spec("error"))
    assert column(everything, "created") == (False, True)
    assert column(everything, "day") == (True, True)
    assert converted(planned(spec("error"))) == []
    assert column(mapped(spec("error", created="null")), "created") == (True, False)


def test_the_plan_hash_changes_with_the_choice_even_on_a_nullable_column() -> None:
    base = planned(spec()).hash
    assert planned(spec(created="null")).hash == base  # the default spelt out
    assert planned(spec(created="error")).hash != base
    assert planned(spec(day="error")).hash != base
    assert planned(spec(day="error")).selection_hash != planned(spec()).selection_hash


def test_choices_name_existing_untransformed_date_columns() -> None:
    with pytest.raises(SelectionError, match="table posts: no column named missing"):
        mapped(spec(missing="error"))
    with pytest.raises(SelectionError, match="column title of type varchar\\(80\\), which holds no dates"):
        mapped(spec(title="error"))
    excluded = MigrationSpec.model_validate(
        {
            "source": {"connectionRef": {"name": "s"}},
            "target": {"connectionRef": {"name": "t"}},
            "tables": {
                "overrides": [
                    {"name": "posts", "columns": {"exclude": ["day"]}, "zeroDates": {"day": "error"}}
                ]
            },
        }
    )
    with pytest.raises(SelectionError, match="column day is excluded but has a zeroDates choice"):
        mapped(excluded)
    transformed = MigrationSpec.model_validate(
        {
            "source": {"connectionRef": {"name": "s"}},
            "target": {"connectionRef": {"name": "t"}},
            "tables": {
                "overrides": [
                    {
                        "name": "posts",
                        "transforms": [{"column": "day", "type": "null"}],
                        "zeroDates": {"day": "error"},
                    }
                ]
            },
        }
    )
    with pytest.raises(SelectionError, match="column day has a transform and a zeroDates choice"):
        mapped(transformed)


def test_a_postgresql_source_has_no_zero_dates() -> None:
    pg = DatabaseSchema("postgresql", "public", {"posts": POSTS})
    assert column(mapped(spec("error"), pg), "created") == (False, False)


def test_an_unknown_choice_is_refused_by_the_api() -> None:
    with pytest.raises(ValueError, match="null"):
        spec(created="zero")
