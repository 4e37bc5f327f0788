"""PostgreSQL's 63-byte names: collisions refused, long names warned and planned as stored."""

from __future__ import annotations

from ferry.schema.model import Column, ForeignKey, Index, Table
from ferry.schema.pg_names import as_stored, check_names, pg_truncated


def table(name: str, *columns: str, indexes: tuple[Index, ...] = ()) -> Table:
    return Table(name, "public", tuple(Column(c, "text") for c in columns), indexes=indexes)


def test_truncation_counts_bytes_and_never_splits_a_character() -> None:
    assert pg_truncated("a" * 70) == "a" * 63
    assert pg_truncated("é" * 40) == "é" * 31  # 62 bytes: the 32nd character would need 64
    assert pg_truncated("short") == "short"


def test_two_columns_that_become_one_are_an_error_naming_both() -> None:
    first, second = "x" * 63 + "_first", "x" * 63 + "_second"
    found = check_names({"t": table("t", "id", first, second)})
    (error,) = found.errors
    assert error.startswith("t: columns") and repr(first) in error and repr(second) in error


def test_an_index_and_a_table_of_one_schema_collide() -> None:
    long = "o" * 70
    found = check_names(
        {long: table(long, "id"), "u": table("u", "id", indexes=(Index(long + "_i", ("id",)),))}
    )
    assert len(found.errors) == 1 and "tables and indexes" in found.errors[0]


def test_a_long_name_that_stays_distinct_is_a_warning() -> None:
    found = check_names({"t": table("t", "id", "é" * 40)}, enums=["e" * 64])
    assert found.errors == []
    assert len(found.warnings) == 2 and repr("é" * 31) in found.warnings[0]


def test_desired_tables_are_planned_under_their_stored_names() -> None:
    long_table, long_column = "t" * 64, "c" * 64
    fk = ForeignKey("fk", (long_column,), None, long_table, ("id",))
    desired = {long_table: Table(long_table, None, (Column("id", "int"), Column(long_column, "int")),
                                 primary_key=("id",), foreign_keys=(fk,))}  # fmt: skip
    (stored,) = as_stored(desired).values()
    assert stored.name == "t" * 63 and [c.name for c in stored.columns] == ["id", "c" * 63]
    assert stored.foreign_keys[0].columns == ("c" * 63,) and stored.foreign_keys[0].referred_table == "t" * 63
