"""SQLite's dynamically typed values converted for a PostgreSQL target, by the target column type."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from ferry.copy.canonical import canonical_for
from ferry.copy.projection import build_projection
from ferry.copy.sqlite_values import value_fix
from ferry.schema.mapping import ColumnMapping, TableMapping


def _column(source_type: str, target_type: str) -> ColumnMapping:
    return ColumnMapping("c", "c", source_type, target_type, True, None)


@pytest.mark.parametrize(
    ("source_type", "target_type", "value", "written"),
    [
        ("boolean", "boolean", 2, True),  # PostgreSQL's boolean input takes 0 and 1 only
        ("boolean", "boolean", 0, False),
        ("boolean", "boolean", "true", "true"),  # text is PostgreSQL's to parse
        ("numeric(10,2)", "numeric(10,2)", 0.1 + 0.2, Decimal("0.30")),
        ("numeric(10,2)", "numeric(10,2)", 2.675, Decimal("2.68")),  # from 2.675, not 2.67499999…
        ("numeric(10,2)", "numeric(10,2)", -0.125, Decimal("-0.13")),  # half away from zero
        ("numeric(10,2)", "numeric(10,2)", 7, 7),
        ("date", "date", "2024-02-03 00:00:00", dt.date(2024, 2, 3)),
        ("date", "date", "2024-02-03", "2024-02-03"),
        ("date", "date", "not a date at all", "not a date at all"),
        ("blob", "bytea", "héllo", "héllo".encode()),
        ("blob", "bytea", b"\x00\x01", b"\x00\x01"),
    ],
)
def test_values_are_written_as_the_target_type_reads_them(
    source_type: str, target_type: str, value: object, written: object
) -> None:
    fix = value_fix(_column(source_type, target_type))
    assert fix is not None
    assert fix(value) == written


@pytest.mark.parametrize("target_type", ["text", "integer", "bigint", "timestamp", "double precision"])
def test_other_columns_are_not_converted(target_type: str) -> None:
    assert value_fix(_column(target_type, target_type)) is None


def test_fixes_apply_into_postgresql_only_and_agree_with_the_target_checksum() -> None:
    columns = (_column("boolean", "boolean"), _column("numeric(10,2)", "numeric(10,2)"))
    mapping = TableMapping(None, "t", "public", "t", columns, (), None, 0)
    to_pg = build_projection(mapping, "sqlite", "postgresql", None)
    to_sqlite = build_projection(mapping, "sqlite", "sqlite", None)

    source_row = to_pg.apply((5, 0.1 + 0.2))
    assert source_row == [True, Decimal("0.30")]
    assert to_sqlite.apply((5, 0.1 + 0.2)) == [5, 0.1 + 0.2]
    # What PostgreSQL holds after the copy (t, 0.30) canonicalises like the fixed source row.
    canons = [canonical_for(c.target_type) for c in columns]
    assert [c(v) for c, v in zip(canons, source_row, strict=True)] == [
        c(v) for c, v in zip(canons, (True, Decimal("0.30")), strict=True)
    ]


def test_an_integer_column_holding_text_or_a_real_canonicalises_as_what_it_holds() -> None:
    as_int = canonical_for("integer")
    assert [as_int(v) for v in (7, "7", 7.0, 2.5, "x1")] == ["7", "7", "7", "2.5", "x1"]
