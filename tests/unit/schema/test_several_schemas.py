"""source.schemas: the API rules, schema pairs, qualified selection and the joined plan."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from ferry.api.migration import MigrationSpec
from ferry.schema import Column, DatabaseSchema, SelectionError, Table, build_plan
from ferry.schema.plan_join import join_plans
from ferry.schema.schema_pairs import SchemaPair, check_dialects, schema_pairs
from ferry.schema.selection import select_schemas


def spec(source: dict[str, Any], target: dict[str, Any] | None = None, **rest: Any) -> MigrationSpec:
    return MigrationSpec.model_validate(
        {
            "source": {"connectionRef": {"name": "s"}, **source},
            "target": {"connectionRef": {"name": "t"}, **(target or {})},
            **rest,
        }
    )


def table(schema: str, name: str) -> Table:
    return Table(name, schema, (Column("id", "bigint", nullable=False), Column("note", "text")), ("id",))


SALES = DatabaseSchema("postgresql", "sales", {n: table("sales", n) for n in ("orders", "customer", "tmp_a")})
BILLING = DatabaseSchema("postgresql", "billing", {n: table("billing", n) for n in ("orders", "invoice")})


def test_one_schema_is_one_pair_as_before() -> None:
    assert schema_pairs(spec({"schema": "app"}, {"schema": "app2"})) == [SchemaPair("app", "app2")]
    assert schema_pairs(spec({})) == [SchemaPair(None, None)]


def test_each_schema_keeps_its_name_unless_mapped() -> None:
    pairs = schema_pairs(
        spec({"schemas": ["sales", "billing"]}, {"schemaMapping": {"billing": "billing_v2"}})
    )
    assert pairs == [SchemaPair("sales", "sales"), SchemaPair("billing", "billing_v2")]


def test_two_schemas_into_one_target_schema_is_refused() -> None:
    mig = spec({"schemas": ["sales", "billing"]}, {"schemaMapping": {"billing": "sales"}})
    with pytest.raises(SelectionError, match="sales, billing would all go to target schema sales"):
        schema_pairs(mig)


def test_several_schemas_need_postgresql_on_both_sides() -> None:
    mig = spec({"schemas": ["sales", "billing"]})
    with pytest.raises(SelectionError, match="several schemas need a PostgreSQL source and target"):
        check_dialects(mig, "mysql", "postgresql")
    check_dialects(mig, "postgresql", "postgresql")
    check_dialects(spec({"schema": "shop"}), "mysql", "postgresql")  # one schema: any engine


def test_unqualified_globs_apply_in_every_schema_and_qualified_ones_in_theirs() -> None:
    mig = spec(
        {"schemas": ["sales", "billing"]}, tables={"include": ["*"], "exclude": ["tmp_*", "billing.invoice"]}
    )
    selected = select_schemas([(SALES, "sales"), (BILLING, "billing")], mig, "postgresql")
    assert [[m.qualified_target for m in ms] for ms in selected] == [
        ["sales.customer", "sales.orders"],
        ["billing.orders"],
    ]


def test_an_override_qualified_with_its_schema_applies_to_that_table_only() -> None:
    override = {
        "name": "billing.orders",
        "targetName": "bill_orders",
        "columns": {"rename": {"note": "remark"}},
    }
    mig = spec({"schemas": ["sales", "billing"]}, tables={"overrides": [override]})
    sales, billing = select_schemas([(SALES, "sales"), (BILLING, "billing_v2")], mig, "postgresql")
    assert [m.qualified_target for m in sales] == ["sales.customer", "sales.orders", "sales.tmp_a"]
    assert [m.qualified_target for m in billing] == ["billing_v2.invoice", "billing_v2.bill_orders"]
    assert [c.target for c in billing[1].columns] == ["id", "remark"]
    assert [c.target for c in sales[1].columns] == ["id", "note"]


def test_an_unqualified_override_of_a_name_two_schemas_have_is_an_error() -> None:
    mig = spec(
        {"schemas": ["sales", "billing"]}, tables={"overrides": [{"name": "orders", "where": "id > 0"}]}
    )
    with pytest.raises(
        SelectionError, match=r"orders, which several schemas have \(sales.orders, billing.orders\)"
    ):
        select_schemas([(SALES, "sales"), (BILLING, "billing")], mig, "postgresql")


def test_an_unqualified_override_of_a_name_only_one_schema_has_finds_it() -> None:
    mig = spec(
        {"schemas": ["sales", "billing"]}, tables={"overrides": [{"name": "invoice", "where": "id > 0"}]}
    )
    _, billing = select_schemas([(SALES, "sales"), (BILLING, "billing")], mig, "postgresql")
    assert [(m.source_table, m.where) for m in billing] == [("invoice", "id > 0"), ("orders", None)]


def test_an_override_no_schema_has_is_an_error() -> None:
    mig = spec({"schemas": ["sales", "billing"]}, tables={"overrides": [{"name": "sales.invoice"}]})
    with pytest.raises(SelectionError, match=r"names sales\.invoice, which no selected schema has"):
        select_schemas([(SALES, "sales"), (BILLING, "billing")], mig, "postgresql")


def test_the_joined_plan_creates_every_schema_and_hashes_both() -> None:
    mig = spec({"schemas": ["sales", "billing"]})
    pairs = [(SALES, "sales"), (BILLING, "billing")]
    selected = select_schemas(pairs, mig, "postgresql")
    plans = [
        build_plan(
            src,
            DatabaseSchema("postgresql", tgt, schema_exists=False),
            ms,
            mode="diff",
            target_dialect="postgresql",
        )
        for (src, tgt), ms in zip(pairs, selected, strict=True)
    ]
    joined = join_plans(plans, ["sales", "billing"])
    kinds = [(op.kind.value, op.qualified_table) for op in joined.operations]
    assert kinds[:2] == [("create_schema", "sales"), ("create_schema", "billing")]
    assert ("create_table", "billing.orders") in kinds and ("create_table", "sales.orders") in kinds
    # The hash covers every schema: a change in the second one changes it.
    changed = DatabaseSchema("postgresql", "billing", {"orders": table("billing", "orders")})
    orders = [m for m in selected[1] if m.source_table == "orders"]
    empty = DatabaseSchema("postgresql", "billing", schema_exists=False)
    again = build_plan(changed, empty, orders, mode="diff", target_dialect="postgresql")
    assert join_plans([plans[0], again], ["sales", "billing"]).hash != joined.hash
    assert join_plans(plans[:1], ["sales"]) is plans[0]  # one schema: the plan (and hash) as before


def test_the_api_refuses_mixing_one_schema_and_several() -> None:
    # The CEL rules are checked by the apiserver (tests/unit/test_crds_generated covers the CRD);
    # the model itself accepts both shapes and the planner reads schemas first.
    mig = spec({"schemas": ["sales"]}, {"schemaMapping": {"sales": "s2"}})
    assert mig.source.schemas == ["sales"] and mig.target.schema_mapping == {"sales": "s2"}
    with pytest.raises(ValidationError):
        spec({"schemas": []})


@pytest.mark.parametrize(
    ("source", "target", "words"),
    [
        ({"schema": "a", "schemas": ["a", "b"]}, {}, "use either source.schema or source.schemas"),
        ({"schemas": ["a", "b"]}, {"schema": "c"}, "instead of target.schema"),
        ({"schemas": ["a"]}, {"schemaMapping": {"x": "y"}}, "names x, which source.schemas does not list"),
        ({"schema": "a"}, {"schemaMapping": {"a": "b"}}, "names a, which source.schemas does not list"),
    ],
    ids=["schema-and-schemas", "schemas-and-target-schema", "unlisted-mapping", "mapping-without-schemas"],
)
def test_ferry_run_refuses_what_the_apiserver_refuses(
    source: dict[str, Any], target: dict[str, Any], words: str
) -> None:
    """No apiserver checks a bundle of `ferry run`: the planner repeats the CEL rules."""
    with pytest.raises(SelectionError, match=words):
        schema_pairs(spec(source, target))
