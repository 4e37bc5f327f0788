"""SQL builders: keyset ranges per dialect, the batch boundary query, the conflict clauses."""

from __future__ import annotations

from ferry.api.migration import OnConflict
from ferry.copy.insert_target import insert_sql
from ferry.copy.pg_target import insert_from_stage
from ferry.copy.sql import boundary_query, key_range, pg_literal, quantile_query, quote_ident
from ferry.copy.units import WorkUnit
from ferry.schema.mapping import ColumnMapping, TableMapping


def test_pg_composite_range_compares_rows_with_typed_literals() -> None:
    pred = key_range("postgresql", ["a", "b"], ["integer", "text"], ("1", "x'y"), ("5", "z"))
    assert pred.sql == (
        "(\"a\", \"b\") > ('1'::integer, 'x''y'::text) AND (\"a\", \"b\") <= ('5'::integer, 'z'::text)"
    )
    assert pred.params == []


def test_mysql_composite_range_expands_for_index_use() -> None:
    pred = key_range("mysql", ["a", "b"], [], (1, "x"), None)
    assert pred.sql == "((`a` > %s) OR (`a` = %s AND `b` > %s))"
    assert pred.params == [1, 1, "x"]
    upper = key_range("mysql", ["a", "b"], [], None, (5, "z"))
    assert upper.sql == "((`a` < %s) OR (`a` = %s AND `b` <= %s))"


def test_sqlite_composite_range_expands_with_question_marks() -> None:
    pred = key_range("sqlite", ["a", "b"], [], (1, "x"), (5, "z"))
    assert pred.sql == '(("a" > ?) OR ("a" = ? AND "b" > ?)) AND (("a" < ?) OR ("a" = ? AND "b" <= ?))'
    assert pred.params == [1, 1, "x", 5, 5, "z"]


def test_open_range_is_true() -> None:
    assert key_range("postgresql", ["id"], ["bigint"], None, None).sql == "TRUE"


def test_boundary_query_orders_by_the_column_not_its_text() -> None:
    query = boundary_query(
        "postgresql", '"t"', ["id"], key_range("postgresql", ["id"], ["int"], None, None), 100
    )
    assert query.sql == 'SELECT "id"::text AS ferry_k0 FROM "t" WHERE TRUE ORDER BY "id" LIMIT 1 OFFSET 99'


def test_quantiles_take_every_kth_key() -> None:
    sql = quantile_query("mysql", "`t`", ["id"], 1000)
    assert "row_number() OVER (ORDER BY `id`)" in sql and "ferry_rn % 1000 = 0" in sql


def test_quoting_doubles_the_quote_character() -> None:
    assert quote_ident("postgresql", 'we"ird') == '"we""ird"'
    assert quote_ident("mysql", "we`ird") == "`we``ird`"
    # MySQL statements are %-formatted by the driver: a percent sign in a name is doubled.
    assert quote_ident("mysql", "50%s off") == "`50%%s off`"
    assert quote_ident("postgresql", "50%s off") == '"50%s off"'
    assert pg_literal("it's") == "'it''s'"


def _unit(key: tuple[str, ...] = ("id",)) -> WorkUnit:
    cols = (
        ColumnMapping("id", "id", "integer", "integer", False),
        ColumnMapping("Name", "name", "text", "text", True),
    )
    return WorkUnit("public.t", TableMapping(None, "t", "public", "t", cols, key))


def test_pg_update_conflict_targets_the_renamed_key() -> None:
    sql = insert_from_stage(_unit(), ["id", "name"], OnConflict.UPDATE)
    assert sql.endswith('ON CONFLICT ("id") DO UPDATE SET "name" = EXCLUDED."name"')
    assert insert_from_stage(_unit(), ["id", "name"], OnConflict.SKIP).endswith("ON CONFLICT DO NOTHING")


def test_mysql_and_sqlite_conflict_clauses() -> None:
    assert insert_sql("mysql", _unit(), OnConflict.UPDATE).endswith(
        "ON DUPLICATE KEY UPDATE `name` = VALUES(`name`)"
    )
    assert (
        insert_sql("mysql", _unit(), OnConflict.ERROR)
        == "INSERT INTO `public`.`t` (`id`, `name`) VALUES (%s, %s)"
    )
    assert insert_sql("sqlite", _unit(), OnConflict.SKIP).startswith('INSERT OR IGNORE INTO "t"')
    assert 'ON CONFLICT ("id") DO UPDATE SET "name" = excluded."name"' in insert_sql(
        "sqlite", _unit(), OnConflict.UPDATE
    )
