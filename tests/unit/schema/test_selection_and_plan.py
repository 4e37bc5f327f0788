"""Selection (globs, renames, keys, transform types) and plan properties on hand-built models."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from ferry.api.migration import MigrationSpec
from ferry.schema import (
    Column,
    DatabaseSchema,
    ForeignKey,
    SelectionError,
    Table,
    UniqueConstraint,
    build_plan,
    render_ddl,
    select_tables,
)


def spec(**fragment: Any) -> MigrationSpec:
    return MigrationSpec.model_validate(
        {"source": {"connectionRef": {"name": "s"}}, "target": {"connectionRef": {"name": "t"}}, **fragment}
    )


ID = Column("id", "integer", nullable=False, autoincrement=True)
SOURCE = DatabaseSchema(
    "mysql",
    "shop",
    {
        "users": Table(
            "users",
            None,
            (ID, Column("email", "varchar(80)", False), Column("note", "text")),
            ("id",),
            row_estimate=10,
        ),
        "orders": Table(
            "orders",
            None,
            (ID, Column("user_id", "int"), Column("total", "decimal(10,2)")),
            ("id",),
            foreign_keys=(ForeignKey("fk_u", ("user_id",), None, "users", ("id",)),),
            row_estimate=99,
        ),
        "codes": Table(
            "codes",
            None,
            (Column("code", "varchar(5)", False), Column("label", "text")),
            unique_constraints=(UniqueConstraint("uq", ("code",)),),
        ),
        "tmp_x": Table("tmp_x", None, (Column("a", "int"),)),
    },
)
EMPTY = DatabaseSchema("postgresql", "public")


def test_globs_renames_keys_and_transform_types() -> None:
    s = spec(
        tables={
            "exclude": ["tmp_*"],
            "overrides": [
                {
                    "name": "users",
                    "targetName": "people",
                    "columns": {"rename": {"email": "mail"}},
                    "transforms": [
                        {"column": "email", "type": "hash", "keySecretRef": {"name": "k", "key": "k"}},
                        {"column": "note", "type": "constant", "value": "x" * 300},
                    ],
                }
            ],
        }
    )
    mappings = {m.source_table: m for m in select_tables(SOURCE, s, "postgresql")}
    assert set(mappings) == {"users", "orders", "codes"}
    users = mappings["users"]
    assert users.target_table == "people" and users.key == ("id",)
    assert [(c.source, c.target, c.target_type) for c in users.columns] == [
        ("id", "id", "integer"),
        ("email", "mail", "text"),
        ("note", "note", "text"),
    ]
    assert mappings["codes"].key == ("code",)  # unique on NOT NULL columns
    assert mappings["orders"].columns[2].target_type == "numeric(10,2)"


def test_mask_keeps_and_constant_widens_varchar_encrypt_is_bytes_null_is_nullable() -> None:
    s = spec(
        tables={
            "overrides": [
                {
                    "name": "users",
                    "transforms": [
                        {"column": "email", "type": "constant", "value": "y" * 100},
                        {"column": "note", "type": "encrypt", "keySecretRef": {"name": "k", "key": "k"}},
                        {"column": "id", "type": "null"},
                    ],
                }
            ]
        }
    )
    users = next(m for m in select_tables(SOURCE, s, "postgresql") if m.source_table == "users")
    assert [(c.target_type, c.nullable) for c in users.columns] == [
        ("integer", True),
        ("varchar(100)", False),
        ("bytea", True),
    ]


def test_selection_errors_name_what_is_missing() -> None:
    with pytest.raises(SelectionError, match="nope"):
        select_tables(SOURCE, spec(tables={"overrides": [{"name": "nope"}]}), "postgresql")
    with pytest.raises(SelectionError, match="ghost"):
        select_tables(
            SOURCE,
            spec(tables={"overrides": [{"name": "users", "columns": {"exclude": ["ghost"]}}]}),
            "postgresql",
        )


def test_plan_orders_tables_before_foreign_keys_and_splits_around_data() -> None:
    mappings = select_tables(SOURCE, spec(tables={"exclude": ["tmp_*"]}), "postgresql")
    plan = build_plan(SOURCE, EMPTY, mappings, mode="create", target_dialect="postgresql")
    assert [op.kind for op in plan.pre_data] == ["create_table"] * 3
    assert [op.kind for op in plan.post_data] == ["add_foreign_key"]
    together = build_plan(
        SOURCE, EMPTY, mappings, mode="create", target_dialect="postgresql", defer_constraints=False
    )
    assert together.post_data == [] and together.pre_data[-1].kind == "add_foreign_key"
    assert plan.counts() == {"safe": 4, "lossy": 0, "destructive": 0}
    ddl = render_ddl(plan.operations, "postgresql")
    assert ddl[-1].startswith(
        "ALTER TABLE public.orders ADD CONSTRAINT fk_u FOREIGN KEY(user_id) REFERENCES public.users"
    )


def test_deferred_primary_keys_are_built_after_the_load_before_foreign_keys() -> None:
    mappings = select_tables(SOURCE, spec(tables={"exclude": ["tmp_*"]}), "postgresql")
    plan = build_plan(
        SOURCE, EMPTY, mappings, mode="create", target_dialect="postgresql", defer_primary_keys=True
    )
    created = [op for op in plan.pre_data if op.kind == "create_table"]
    assert created and all(op.table_def is not None and op.table_def.primary_key == () for op in created)
    post = [op.kind for op in plan.post_data]
    assert post.count("add_primary_key") == len(
        [m for m in mappings if SOURCE.tables[m.source_table].primary_key]
    )
    assert post.index("add_foreign_key") > max(i for i, kind in enumerate(post) if kind == "add_primary_key")
    ddl = render_ddl(plan.pre_data, "postgresql")
    assert not any("PRIMARY KEY" in statement for statement in ddl)
    # MySQL keeps the key in CREATE TABLE: an AUTO_INCREMENT column must be a key.
    mysql = build_plan(
        SOURCE, EMPTY, mappings, mode="create", target_dialect="mysql", defer_primary_keys=True
    )
    assert "add_primary_key" not in [op.kind for op in mysql.operations]


def test_plan_hash_pins_schemas_and_operations_but_not_row_counts() -> None:
    mappings = select_tables(SOURCE, spec(), "postgresql")
    plan = build_plan(SOURCE, EMPTY, mappings, mode="create", target_dialect="postgresql")
    assert len(plan.hash) == 64
    assert build_plan(SOURCE, EMPTY, mappings, mode="create", target_dialect="postgresql").hash == plan.hash
    bigger = replace(SOURCE.tables["orders"], row_estimate=1_000_000)
    grown = replace(SOURCE, tables={**SOURCE.tables, "orders": bigger})
    assert grown.hash() == SOURCE.hash()
    assert (
        build_plan(
            grown,
            EMPTY,
            select_tables(grown, spec(), "postgresql"),
            mode="create",
            target_dialect="postgresql",
        ).hash
        == plan.hash
    )
    changed = SOURCE.without_table("tmp_x")
    assert changed.hash() != SOURCE.hash()
    diff_mode = build_plan(SOURCE, EMPTY, mappings, mode="diff", target_dialect="postgresql")
    assert diff_mode.hash == plan.hash  # same operations against the same schemas


def test_model_json_is_stable_and_round_trips() -> None:
    assert DatabaseSchema.from_json(SOURCE.to_json()) == SOURCE
    assert SOURCE.to_json() == DatabaseSchema.from_json(SOURCE.to_json()).to_json()


def test_plan_status_is_bounded() -> None:
    plan = build_plan(
        SOURCE, EMPTY, select_tables(SOURCE, spec(), "postgresql"), mode="create", target_dialect="postgresql"
    )
    status = plan.to_status(max_operations=2)
    assert (len(status.operations), status.operations_omitted, status.safe, status.hash) == (
        2,
        3,
        5,
        plan.hash,
    )


def test_plan_status_keeps_the_count_of_warnings_it_leaves_out() -> None:
    plan = build_plan(
        SOURCE, EMPTY, select_tables(SOURCE, spec(), "postgresql"), mode="create", target_dialect="postgresql"
    )
    many = replace(plan, warnings=tuple(f"warning {i}" for i in range(73)))
    status = many.to_status()
    assert (len(status.warnings), status.warnings_omitted) == (50, 23)
    assert plan.to_status().warnings_omitted == 0


def test_existing_postgresql_tables_with_foreign_keys_are_warned_about_and_completing_only_adds() -> None:
    mappings = select_tables(SOURCE, spec(tables={"exclude": ["tmp_*"]}), "postgresql")
    fresh = build_plan(SOURCE, EMPTY, mappings, mode="create", target_dialect="postgresql")
    existing = DatabaseSchema(
        "postgresql",
        "public",
        {name: replace(op.table_def, schema="public") for op in fresh.pre_data if (name := op.table)}
        | {"orders": replace(SOURCE.tables["orders"], schema="public", foreign_keys=(
            ForeignKey("fk_u", ("user_id",), "public", "users", ("id",)),))},
    )  # fmt: skip
    plan = build_plan(SOURCE, existing, mappings, mode="diff", target_dialect="postgresql")
    assert [w for w in plan.warnings if "dropped for the load" in w] == [
        "orders: its foreign keys (1) are dropped for the load and re-created as they were after it"
    ]
    mysql = build_plan(SOURCE, EMPTY, mappings, mode="create", target_dialect="mysql")
    assert not any("dropped for the load" in w for w in mysql.warnings)
    # What a re-plan after the load may apply on its own: additions only, never the table itself.
    assert {op.kind for op in fresh.operations} == {"create_table", "add_foreign_key"}
    assert {op.kind for op in fresh.completing} == {"add_foreign_key"}


def test_the_plan_hash_pins_filters_transforms_and_renames() -> None:
    def planned(**extra: object) -> str:
        mappings = select_tables(SOURCE, spec(**extra), "postgresql")
        plan = build_plan(SOURCE, EMPTY, mappings, mode="create", target_dialect="postgresql")
        return plan.with_selection(mappings).hash

    table = sorted(SOURCE.tables)[0]
    column = SOURCE.tables[table].columns[-1].name
    base = planned()
    assert planned() == base
    assert planned(tables={"overrides": [{"name": table, "where": "1 = 1"}]}) != base
    assert (
        planned(tables={"overrides": [{"name": table, "transforms": [{"column": column, "type": "null"}]}]})
        != base
    )
    assert (
        planned(tables={"overrides": [{"name": table, "columns": {"rename": {column: "renamed"}}}]}) != base
    )
    drifted = replace(
        SOURCE, tables={n: replace(t, row_estimate=t.row_estimate + 7) for n, t in SOURCE.tables.items()}
    )
    mappings = select_tables(drifted, spec(), "postgresql")
    assert (
        build_plan(drifted, EMPTY, mappings, mode="create", target_dialect="postgresql")
        .with_selection(mappings)
        .hash
        == base
    )  # row estimates drift without a change
