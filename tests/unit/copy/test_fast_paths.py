"""Pure builders of the fast paths: integer-key split points and server-formatted MySQL COPY CSV lines."""

from __future__ import annotations

from ferry.api.migration import Transform
from ferry.copy.key_steps import dense, value_bound
from ferry.copy.mysql_copy_csv import column_csv, copy_line_expression
from ferry.copy.units import WorkUnit, estimated_work, even_splits, integer_key
from ferry.schema.mapping import ColumnMapping, TableMapping


def _mapping(key: tuple[str, ...], *types: tuple[str, str]) -> TableMapping:
    cols = tuple(ColumnMapping(n, n, t, t, True) for n, t in types)
    return TableMapping(None, "t", None, "t", cols, key, row_estimate=10)


def test_even_splits_are_sorted_distinct_and_inside_the_range() -> None:
    assert even_splits(1, 100, 4) == [25, 50, 75]
    assert even_splits(1, 3, 8) == [1, 2]  # fewer keys than parts: fewer, still distinct, points
    assert even_splits(5, 5, 3) == []
    points = even_splits(-1000, 10**12, 7)
    assert points == sorted(set(points)) and len(points) == 6


def test_only_a_single_integer_key_is_split_by_value() -> None:
    assert integer_key(_mapping(("id",), ("id", "bigint"), ("v", "text")))
    assert integer_key(_mapping(("id",), ("id", "int(10) unsigned")))
    assert not integer_key(_mapping(("id",), ("id", "varchar(10)")))
    assert not integer_key(_mapping(("a", "b"), ("a", "int"), ("b", "int")))


def test_mysql_csv_line_quotes_text_and_marks_nulls_without_backslash_literals() -> None:
    cols = [
        ColumnMapping("id", "id", "bigint", "bigint", False),
        ColumnMapping("note", "note", "text", "text", True),
        ColumnMapping("bin", "bin", "blob", "bytea", True),
    ]
    sql = copy_line_expression(cols, {"note": "latin1"})
    assert sql is not None and "\\" not in sql
    # A NOT NULL number is its own text; nullable fields turn NULL into an empty unquoted field.
    assert sql.startswith("CAST(CONCAT_WS(',', `id`, IFNULL(CONCAT('\"', REPLACE(REPLACE(CONVERT(`note`")
    assert "CHAR(0 USING utf8mb4), ''), '\"', '\"\"')" in sql
    assert "IFNULL(CONCAT(CHAR(92 USING utf8mb4), 'x', HEX(`bin`)), '')" in sql


def test_utf8_text_is_not_converted_and_unknown_charsets_are() -> None:
    note = ColumnMapping("note", "note", "varchar(20)", "text", False)
    assert "CONVERT" not in (column_csv(note, "utf8mb4") or "CONVERT")
    assert "CONVERT" not in (column_csv(note, "utf8mb3") or "CONVERT")
    assert "CONVERT(`note` USING utf8mb4)" in (column_csv(note, "latin1") or "")
    assert "CONVERT(`note` USING utf8mb4)" in (column_csv(note, None) or "")


def test_columns_whose_text_could_differ_keep_the_row_path() -> None:
    assert column_csv(ColumnMapping("s", "s", "set('a','b')", "text", True)) is None
    assert column_csv(ColumnMapping("d", "d", "double", "text", True)) is None  # '1e16' vs '1e+16'
    assert column_csv(ColumnMapping("t", "t", "datetime(6)", "text", True)) is None
    hashed = ColumnMapping("e", "e", "varchar(50)", "text", True, Transform(column="e", type="null"))
    assert copy_line_expression([hashed]) is None


def test_key_value_batches_hold_at_most_batch_size_keys_and_end_at_the_unit() -> None:
    assert dense(1, 3000, 2700) and dense(None, None, 0)
    assert not dense(1_000_000, 500_000_000, 500)  # sparse: bounds by row offsets instead
    assert value_bound(None, 1, 3000, 100) == 100  # keys 1..100
    assert value_bound((100,), 101, 3000, 100) == 200
    assert value_bound(("2900",), "2901", "3000", 100) is None  # the rest fits (PostgreSQL keys are text)
    assert value_bound((5,), None, None, 100) is None  # nothing left


def test_units_with_wide_rows_start_before_narrow_ones_of_as_many_rows() -> None:
    wide = _mapping(("id",), ("id", "bigint"), ("note", "text"), ("payload", "json"))
    narrow = _mapping(("id",), ("id", "bigint"), ("ts", "timestamp"), ("kind", "smallint"), ("v", "double"))
    big_wide = WorkUnit("w", wide, estimated_rows=1_600_000)
    big_narrow = WorkUnit("n", narrow, estimated_rows=2_000_000)
    assert estimated_work(big_wide) > estimated_work(big_narrow)  # 1.6M x 9 against 2M x 4
    assert estimated_work(WorkUnit("e", narrow)) == 4  # no estimate yet: still ordered, never zero
