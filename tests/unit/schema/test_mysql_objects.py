"""MySQL/MariaDB objects beyond tables (issue 11): generated columns and views translated by
sqlglot or refused with the construct named, triggers and routines named, TIME decided from
the data, foreign keys to tables that will not exist as plan errors. Hand-built models."""

from __future__ import annotations

from typing import Any

from ferry.api.migration import MigrationSpec
from ferry.copy.canonical import canonical_for
from ferry.schema import Column, DatabaseSchema, ForeignKey, Table, build_plan, render_ddl, select_tables
from ferry.schema.model import SourceObject
from ferry.schema.mysql_generated import translate
from ferry.schema.mysql_sql import translate_expression, translate_view


def spec(**fragment: Any) -> MigrationSpec:
    return MigrationSpec.model_validate(
        {"source": {"connectionRef": {"name": "s"}}, "target": {"connectionRef": {"name": "t"}}, **fragment}
    )


ITEMS = Table(
    "items",
    None,
    (
        Column("id", "int", False),
        Column("price", "decimal(10,2)", False),
        Column("qty", "int", False),
        Column("first", "varchar(20)"),
        Column("total", "decimal(12,2)", generated="`price` * `qty`"),
        Column("bytes", "int", generated="octet_length(`first`)"),
        Column("big", "tinyint(1)", generated="if(`qty` > 10,1,0)"),
        Column("active", "tinyint(1)", False),
        Column("clock", "time"),
        Column("worked", "time(3)", time_overflow=True),
    ),
    ("id",),
)
VIEWS = (
    # Defined in name order, read in dependency order: b_totals reads a view created after it by name.
    SourceObject("view", "b_totals", "select `v`.`id` AS `id` from `shop`.`z_active` `v`"),
    SourceObject(
        "view",
        "z_active",
        "select `shop`.`items`.`id` AS `id` from `shop`.`items` where `shop`.`items`.`active` = 1",
    ),
    SourceObject("view", "lengths", "select octet_length(`shop`.`items`.`first`) AS `n` from `shop`.`items`"),
    SourceObject("view", "elsewhere", "select `x`.`id` AS `id` from `other`.`t` `x`"),
    SourceObject("trigger", "items_bi", table="items"),
    SourceObject("procedure", "purge"),
    SourceObject("function", "tax"),
    SourceObject("event", "nightly"),
)  # fmt: skip
SOURCE = DatabaseSchema(
    "mysql", "shop", {"items": ITEMS}, views=("b_totals", "z_active"), source_objects=VIEWS
)
TARGET = DatabaseSchema("postgresql", "public")


def test_expressions_translate_exactly_or_name_what_refuses_them() -> None:
    names = {"a": "a", "b": "renamed", "n": "n"}
    assert translate_expression("concat(`a`,' ',`b`)", names, {"a", "b"}).sql == '"a" || \' \' || "renamed"'
    assert translate_expression("ifnull(`n`,0) + 1", names, ()).sql == 'COALESCE("n", 0) + 1'
    refused = {
        "length(`a`)": "LENGTH has no exact PostgreSQL translation",
        "my_udf(`a`)": "MY_UDF has no exact PostgreSQL translation",
        "`n` / 2": "DIV has no exact PostgreSQL translation",
        "concat(`a`, `n`)": "CONCAT of a non-text operand is not immutable on PostgreSQL",
        "`gone` + 1": "it reads column gone, which is not selected",
    }
    for text, reason in refused.items():
        assert translate_expression(text, names, {"a", "b"}).reason == reason, text


def test_a_generated_column_is_refused_where_postgresql_would_store_something_else() -> None:
    rename = {c.name: c.name for c in ITEMS.columns}
    big = ITEMS.column("big")
    assert big is not None
    assert translate(ITEMS, big, rename, False, "boolean").sql == (
        '(CAST((CASE WHEN "qty" > 10 THEN 1 ELSE 0 END) AS integer) <> 0)'
    )
    assert translate(ITEMS, big, rename, True, "boolean").reason == "it has a transform"
    assert "takes no computed value" in (translate(ITEMS, big, rename, False, "items_size").reason or "")


def test_selection_keeps_translated_generated_columns_out_of_the_copy() -> None:
    (mapping,) = select_tables(SOURCE, spec(), "postgresql")
    assert [c.source for c in mapping.generated] == ["total", "big"]
    assert "total" not in [c.source for c in mapping.columns] and "bytes" in [
        c.source for c in mapping.columns
    ]
    assert {c.target: c.target_type for c in mapping.columns}["worked"] == "interval(3)"

    plan = build_plan(SOURCE, TARGET, [mapping], mode="create", target_dialect="postgresql")
    ddl = render_ddl(plan.pre_data, "postgresql")[0]
    assert 'total numeric(12,2) GENERATED ALWAYS AS ("price" * "qty") STORED' in ddl
    assert "bytes integer," in ddl and "clock time," in ddl and "worked interval(3)" in ddl
    assert any("created as interval: items.worked" in w for w in plan.warnings)
    assert any("created as time: items.clock" in w for w in plan.warnings)
    assert any(
        w.endswith("OCTET_LENGTH has no exact PostgreSQL translation: items.bytes") for w in plan.warnings
    )


def test_views_are_created_in_dependency_order_and_every_other_object_is_named() -> None:
    plan = build_plan(
        SOURCE,
        TARGET,
        select_tables(SOURCE, spec(), "postgresql"),
        mode="create",
        target_dialect="postgresql",
    )
    views = [op for op in plan.operations if op.kind == "create_view"]
    assert [op.table for op in views] == ["z_active", "b_totals"]
    assert all(op.phase == "post_data" for op in views)
    assert render_ddl(views, "postgresql") == [
        'CREATE VIEW public.z_active AS SELECT "items"."id" AS "id" FROM "public"."items" '
        'WHERE CAST("items"."active" AS INT) = 1',
        'CREATE VIEW public.b_totals AS SELECT "v"."id" AS "id" FROM "public"."z_active" AS "v"',
    ]
    named = [w for w in plan.warnings if "is not carried" in w]
    procedural = (
        "is not carried: its procedural SQL is not translated; re-create it on the target if still needed"
    )
    assert named == [
        "view elsewhere is not carried: it reads other.t, outside the source schema",
        "view lengths is not carried: OCTET_LENGTH has no exact PostgreSQL translation",
        f"trigger items_bi on table items {procedural}",
        f"procedure purge {procedural}",
        f"function tax {procedural}",
        f"event nightly {procedural}",
    ]
    # A view the target already has is left as is: a re-plan converges.
    again = build_plan(
        SOURCE,
        DatabaseSchema("postgresql", "public", views=("z_active", "b_totals")),
        select_tables(SOURCE, spec(), "postgresql"),
        mode="create",
        target_dialect="postgresql",
    )
    assert [op for op in again.operations if op.kind == "create_view"] == []
    # The objects are part of the source's hash: a new trigger invalidates an approval.
    assert (
        SOURCE.hash() != DatabaseSchema("mysql", "shop", {"items": ITEMS}, source_objects=VIEWS[:-1]).hash()
    )
    assert DatabaseSchema.from_json(SOURCE.to_json()) == SOURCE


def test_a_view_reading_a_renamed_column_is_not_carried() -> None:
    renamed = spec(tables={"overrides": [{"name": "items", "columns": {"rename": {"id": "item_id"}}}]})
    plan = build_plan(
        SOURCE,
        TARGET,
        select_tables(SOURCE, renamed, "postgresql"),
        mode="create",
        target_dialect="postgresql",
    )
    assert "view z_active is not carried: it reads items, which is not carried" in plan.warnings


def test_a_foreign_key_to_a_table_nowhere_is_an_error_and_to_a_target_table_a_warning() -> None:
    orders = Table(
        "orders",
        None,
        (Column("id", "int", False), Column("item_id", "int")),
        ("id",),
        foreign_keys=(ForeignKey("fk", ("item_id",), None, "items", ("id",)),),
    )
    source = DatabaseSchema("mysql", "shop", {"items": ITEMS, "orders": orders})
    mappings = select_tables(source, spec(tables={"include": ["orders"]}), "postgresql")
    plan = build_plan(source, TARGET, mappings, mode="create", target_dialect="postgresql")
    assert plan.errors == (
        "orders: references items, which is not selected and does not exist on the target; "
        "select items or exclude the referencing column",
    )
    have = DatabaseSchema("postgresql", "public", {"items": Table("items", "public", ITEMS.columns[:1])})
    plan = build_plan(source, have, mappings, mode="create", target_dialect="postgresql")
    assert plan.errors == ()
    assert any(w.startswith("orders: foreign key to items not created") for w in plan.warnings)


def test_translate_view_qualifies_for_the_target_and_refuses_what_is_not_carried() -> None:
    view = translate_view("select `t`.`a` AS `a` from `shop`.`t`", "shop", "app", {"t": "t2"})
    assert view.sql == 'SELECT "t2"."a" AS "a" FROM "app"."t2"' and view.tables == ("t",)
    assert translate_view("select 1 AS `x` from `shop`.`u`", "shop", "app", {}).reason == (
        "it reads u, which is not carried"
    )


def test_intervals_compare_by_duration_in_checksums() -> None:
    import datetime as dt

    canon = canonical_for("interval(3)")
    assert canon(dt.timedelta(hours=838, minutes=59, seconds=59)) == canon("838:59:59")
    assert canon(-dt.timedelta(seconds=1, milliseconds=250)) == canon("-00:00:01.25")
    assert canon(dt.timedelta(days=1, hours=2)) == canon("1 day 02:00:00") == canon("26:00:00")


def test_schema_mode_none_creates_no_view_and_says_so() -> None:
    plan = build_plan(
        SOURCE, TARGET, select_tables(SOURCE, spec(), "postgresql"), mode="none", target_dialect="postgresql"
    )
    assert [op for op in plan.operations if op.kind == "create_view"] == []
    assert (
        "view z_active is not carried: views are translated only into PostgreSQL with schema mode "
        "create or diff" in plan.warnings
    )
