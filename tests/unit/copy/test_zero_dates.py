"""zeroDates: error on both MariaDB read paths and in validation's conversion: a zero date fails
instead of becoming NULL, and the failure names the column, never the value."""

from __future__ import annotations

import datetime as dt

import pytest

from ferry.copy.mysql_copy_csv import copy_line_expression
from ferry.copy.mysql_values import (
    ZERO_DATE_MARK,
    ZeroDateFound,
    csv_field,
    marked_column,
    value_fix,
    zero_date_column,
)
from ferry.copy.projection import build_projection
from ferry.schema.mapping import ColumnMapping, TableMapping

NULLED = ColumnMapping("created", "created", "datetime", "timestamp", True)
FAILING = ColumnMapping("created at", "created at", "datetime", "timestamp", False, zero_dates_error=True)


def test_the_csv_path_writes_a_marker_the_target_refuses_instead_of_null() -> None:
    assert csv_field(NULLED, "`created`") == (
        "IF(YEAR(`created`) = 0 OR MONTH(`created`) = 0 OR DAYOFMONTH(`created`) = 0, NULL, `created`)"
    )
    field = csv_field(FAILING, "`created at`")
    assert field is not None and f"'{ZERO_DATE_MARK}{b'created at'.hex()}'" in field
    assert "NULL" not in field
    # Still the server-formatted path, and without IFNULL: the column is NOT NULL.
    line = copy_line_expression([ColumnMapping("id", "id", "int", "integer", False), FAILING])
    assert line is not None and "IFNULL" not in line and ZERO_DATE_MARK in line


def test_the_target_error_names_the_column_back() -> None:
    refused = ValueError(f'invalid input syntax for type timestamp: "{ZERO_DATE_MARK}{b"created at".hex()}"')
    assert zero_date_column(refused) == "created at"
    try:
        raise RuntimeError("copy failed") from refused
    except RuntimeError as wrapped:
        assert zero_date_column(wrapped) == "created at"
    assert zero_date_column(ValueError('invalid input syntax for type date: "2024-13-01"')) is None


def test_the_row_path_raises_on_a_zero_date_and_passes_real_dates() -> None:
    null_fix, error_fix = value_fix(NULLED), value_fix(FAILING)
    assert null_fix is not None and error_fix is not None
    assert null_fix("0000-00-00 00:00:00") is None
    stamp = dt.datetime(2024, 1, 2, 3, 4, 5)
    assert error_fix(stamp) == stamp
    with pytest.raises(ZeroDateFound) as found:
        error_fix("0000-00-00 00:00:00")
    assert found.value.column == "created at" and "0000" not in str(found.value)
    assert zero_date_column(found.value) == "created at"


def test_validation_and_copy_share_the_conversion() -> None:
    mapping = TableMapping(None, "posts", None, "posts", (NULLED, FAILING), ("created",))
    projection = build_projection(mapping, "mysql", "postgresql", None)
    assert projection.apply_fixes(["0000-00-00", dt.date(2024, 1, 1)]) == [None, dt.date(2024, 1, 1)]
    with pytest.raises(ZeroDateFound):
        projection.apply_fixes([None, "2024-00-00"])


def test_the_worker_finds_the_marker_in_a_block_of_lines_before_the_target_does() -> None:
    mark = f"{ZERO_DATE_MARK}{b'created at'.hex()}".encode()
    assert marked_column(b'1,"a",2024-01-01\n2,"b",' + mark + b"\n") == "created at"
    assert marked_column(mark + b',"x"\n') == "created at"
    assert marked_column(b'1,"b",' + mark) == "created at"
    # In quoted text it is a value, not the marker; nor is a malformed one.
    assert marked_column(b'1,"' + mark + b'"\n') is None
    assert marked_column(b"1," + ZERO_DATE_MARK.encode() + b"zz\n") is None
    assert marked_column(b'1,"plain",2024-01-01\n') is None
