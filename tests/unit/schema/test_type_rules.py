"""The type rules are data: every rule maps its own example, and the issue's required cases hold."""

from __future__ import annotations

import pytest

from ferry.schema import map_type
from ferry.schema.typemap import find_rule, parse_enum_labels
from ferry.schema.typerules import ENUM, RULES, TypeRule


@pytest.mark.parametrize("rule", RULES, ids=lambda r: f"{r.source}->{r.target}:{r.example}")
def test_each_rule_maps_its_own_example(rule: TypeRule) -> None:
    found = find_rule(rule.source, rule.target, rule.example)
    assert found is not None and found[0] == rule, "an earlier rule shadows this one"
    mapped = map_type(rule.source, rule.target, rule.example, table="t", column="c")
    if rule.unsupported:
        assert mapped.unsupported and mapped.note
    elif rule.to == ENUM:
        assert mapped.type == "t_c" and mapped.enum_values
    else:
        assert mapped.type == rule.becomes


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("tinyint(1)", "boolean"),
        ("tinyint unsigned", "smallint"),
        ("smallint unsigned", "integer"),
        ("int unsigned", "bigint"),
        ("bigint unsigned", "numeric(20,0)"),
        ("datetime", "timestamp"),
        ("datetime(3)", "timestamp(3)"),
        ("timestamp", "timestamptz"),
        ("json", "jsonb"),
        ("blob", "bytea"),
        ("longblob", "bytea"),
        ("binary(16)", "bytea"),
        ("decimal(12,3)", "numeric(12,3)"),
        ("decimal(65,30)", "numeric(65,30)"),
        ("tinytext", "text"),
        ("longtext", "text"),
        ("varchar(255)", "varchar(255)"),
        ("bit(1)", "boolean"),
        ("bit(12)", "bit(12)"),
        ("year", "smallint"),
        ("set('a','b')", "text"),
    ],
)
def test_mysql_to_postgresql(source: str, expected: str) -> None:
    assert map_type("mysql", "postgresql", source).type == expected


def test_mysql_enum_becomes_a_named_enum_type_with_its_labels() -> None:
    mapped = map_type("mysql", "postgresql", "enum('small','x''l','b c')", table="shirt", column="size")
    assert (mapped.type, mapped.enum_values) == ("shirt_size", ("small", "x'l", "b c"))
    assert parse_enum_labels("enum('')") == ("",)


@pytest.mark.parametrize("spatial", ["geometry", "point", "polygon", "multilinestring"])
def test_geometry_is_reported_unsupported(spatial: str) -> None:
    mapped = map_type("mysql", "postgresql", spatial)
    assert mapped.unsupported and "not supported" in mapped.note


def test_sqlite_and_identity_and_reverse() -> None:
    assert map_type("sqlite", "postgresql", "nvarchar(120)").type == "varchar(120)"
    assert map_type("sqlite", "postgresql", "numeric(10,2)").type == "numeric(10,2)"
    assert map_type("sqlite", "postgresql", "whatever").type == "text"
    assert map_type("postgresql", "postgresql", "mood[]").type == "mood[]"
    assert map_type("postgresql", "mysql", "boolean").type == "tinyint(1)"
    assert map_type("postgresql", "mysql", "tsvector").unsupported
