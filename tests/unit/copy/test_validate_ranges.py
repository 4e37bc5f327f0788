"""Validation ranges: how a table is cut, which pod takes which range, the predicates both sides
read, what a repair deletes, and how stored range results become a table's verdict."""

from __future__ import annotations

import itertools
from typing import Any

from ferry.api.migration import Transform
from ferry.copy import CopyJob, Endpoints, MySQLEndpoint, PgEndpoint, validate_pushdown
from ferry.copy.repair import delete_statement
from ferry.copy.validate_ranges import (
    ValidationRange,
    range_predicates,
    ranges_for_worker,
    splittable,
    summarize,
    table_ranges,
)
from ferry.copy.validation_store import RangeResult
from ferry.schema.mapping import ColumnMapping, TableMapping


def _never() -> Any:
    raise AssertionError("no connection in a unit test")


def mapping(key_type: str = "bigint", key: tuple[str, ...] = ("id",), transform: Transform | None = None,
            target_key: str = "order_id") -> TableMapping:  # fmt: skip
    return TableMapping("public", "orders", "public", "orders", (
        ColumnMapping("id", target_key, key_type, "bigint", False, transform),
        ColumnMapping("note", "note", "text", "text", True),
    ), key)  # fmt: skip


def job(source: str = "mysql", target: str = "postgresql") -> CopyJob:
    def endpoint(dialect: str) -> Any:
        return PgEndpoint(_never) if dialect == "postgresql" else MySQLEndpoint(_never, _never)

    return CopyJob("uid-1", Endpoints(endpoint(source), endpoint(target)))


def test_an_integer_key_is_cut_by_value_into_ranges_that_cover_every_key_once() -> None:
    ranges = table_ranges(mapping(), 1, 100_000, 20_000, "mysql")
    assert [r.range_id for r in ranges] == [f"public.orders#{i}/5" for i in range(1, 6)]
    assert ranges[0].lo is None and ranges[-1].hi is None  # open ends: keys added below/above too
    assert all(a.hi == b.lo for a, b in itertools.pairwise(ranges))  # (lo, hi] chained
    assert [r.hi for r in ranges[:-1]] == [(20_000,), (40_000,), (60_000,), (80_000,)]
    # PostgreSQL keys travel as text (ferry.copy.keys).
    assert table_ranges(mapping(), 1, 100_000, 20_000, "postgresql")[0].hi == ("20000",)


def test_tables_that_cannot_be_cut_are_one_range() -> None:
    one = "public.orders"
    assert [r.range_id for r in table_ranges(mapping(), 1, 500, 20_000, "mysql")] == [one]  # small
    assert [r.range_id for r in table_ranges(mapping(), None, None, 20_000, "mysql")] == [one]  # empty
    assert not splittable(mapping(key_type="varchar(20)"))  # collations may order text differently
    assert not splittable(mapping(key=("id", "note")))  # composite
    assert not splittable(mapping(key=()))  # no key
    hashed = Transform.model_validate(
        {"column": "id", "type": "hash", "keySecretRef": {"name": "k", "key": "k"}}
    )
    assert not splittable(mapping(transform=hashed))  # the target holds other key values
    assert table_ranges(mapping(key_type="text"), 1, 10**6, 10, "mysql")[0].whole


def test_each_pod_takes_every_count_th_range_and_together_they_take_all() -> None:
    ranges = table_ranges(mapping(), 1, 100_000, 10_000, "mysql")
    shares = [ranges_for_worker(ranges, i, 3) for i in range(3)]
    assert sorted(r.range_id for s in shares for r in s) == sorted(r.range_id for r in ranges)
    assert ranges_for_worker(ranges, 1, 3) == ranges_for_worker(ranges, 1, 3)  # deterministic


def test_both_sides_read_the_same_range_each_in_its_own_dialect_and_column_name() -> None:
    rng = ValidationRange("public.orders#2/5", mapping(), (20_000,), (40_000,), 1)
    source, target = range_predicates(job("mysql", "postgresql"), rng) or (None, None)
    assert source is not None and target is not None
    assert source.sql == "((`id` > %s)) AND ((`id` <= %s))" and source.params == [20_000, 40_000]
    assert target.sql == """("order_id") > ('20000'::bigint) AND ("order_id") <= ('40000'::bigint)"""
    assert range_predicates(job(), ValidationRange("public.orders", mapping())) is None


def test_a_repair_deletes_only_the_range_on_the_target() -> None:
    rng = ValidationRange("public.orders#2/5", mapping(), ("20000",), None, 4)
    sql, params = delete_statement(job("postgresql", "mysql"), rng)
    assert sql == "DELETE FROM `public`.`orders` WHERE ((`order_id` > %s))" and params == [20_000]
    whole = delete_statement(job("postgresql", "mysql"), ValidationRange("public.orders", mapping()))
    assert whole == ("DELETE FROM `public`.`orders`", [])


def _result(part: int, source: int, target: int, match: bool | None, repaired: bool = False) -> RangeResult:
    difference = None if match is not False else f"keys ({part * 10 + 1}) .. ({part * 10 + 5})"
    return RangeResult(f"public.orders#{part + 1}/3", "public.orders", part, "[]", source, target, match,
                       difference, repaired)  # fmt: skip


def test_stored_results_sum_per_table_and_name_the_first_differing_range_in_key_order() -> None:
    (table,) = summarize([_result(2, 10, 10, False), _result(0, 10, 10, True), _result(1, 10, 9, False)])
    assert (table.source_rows, table.target_rows, table.checksum_match) == (30, 29, False)
    assert table.first_difference == "keys (11) .. (15)"  # part 1 comes before part 2
    assert table.mismatched_ranges == ("public.orders#2/3", "public.orders#3/3")
    assert not table.ok


def test_ranges_that_differ_in_counts_fail_even_when_the_totals_match() -> None:
    (table,) = summarize([_result(0, 10, 11, None), _result(1, 10, 9, None)])
    assert table.source_rows == table.target_rows and table.checksum_match is None
    assert not table.ok and table.mismatched_ranges == ("public.orders#1/3", "public.orders#2/3")


def test_repaired_ranges_are_reported_on_a_clean_table() -> None:
    (table,) = summarize([_result(0, 10, 10, True, repaired=True), _result(1, 10, 10, True)])
    assert table.ok and table.repaired_ranges == ("public.orders#1/3",)


def test_postgresql_to_postgresql_with_the_same_columns_is_digested_by_the_servers() -> None:
    columns = (
        ColumnMapping("id", "id", "bigint", "bigint", False),
        ColumnMapping("v", "v", "text", "text", True),
    )
    same = TableMapping("public", "t", "public", "t", columns, ("id",))
    assert validate_pushdown.eligible(job("postgresql", "postgresql"), same)
    assert not validate_pushdown.eligible(job("mysql", "postgresql"), same)  # text forms differ
    assert validate_pushdown.eligible(job("postgresql", "postgresql"), mapping())  # a renamed column is fine
    # integer → bigint prints the same, but only equal types are trusted to
    assert not validate_pushdown.eligible(job("postgresql", "postgresql"), mapping(key_type="integer"))
    columns_typed = [
        ("id", "BIGINT"),
        ("v", "VARCHAR(20)"),
        ("r", "DOUBLE PRECISION"),
        ("a", "NUMERIC(12, 2)"),
    ]
    assert validate_pushdown.digest_sql('"public"."t"', columns_typed, ["(id > 5)"]) == (
        'SELECT count(*), coalesce(sum(hash_record_extended(ROW("id", "v" COLLATE "C", "r"::text, "a"), 0)), '
        '0)::text FROM "public"."t" WHERE (id > 5)'
    )
    # servers before PostgreSQL 14 (no hash_record_extended): each row's text
    assert validate_pushdown.digest_sql('"public"."t"', columns_typed[:2], [], text_form=True) == (
        'SELECT count(*), coalesce(sum(hashtextextended(ROW("id", "v")::text, 0)), 0)::text FROM "public"."t"'
    )
