"""Which MySQL → PostgreSQL columns the servers digest (ferry.copy.validate_pushdown_mysql), how
they spell them (validate_pushdown_texts), and the SQL they run; that both servers compute the
same numbers is proven on real ones (tests/integration/copy/test_validate_pushdown_mysql.py)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ferry.api.migration import CopySpec, Transform
from ferry.copy import CopyJob, Endpoints
from ferry.copy.endpoints import Endpoint, MySQLEndpoint, PgEndpoint, SQLiteEndpoint
from ferry.copy.sql import Predicate
from ferry.copy.validate_pushdown_mysql import mysql_digest_sql, pg_digest_sql, split
from ferry.copy.validate_pushdown_ordered import mysql_ordered_sql, ordered_keys, pg_ordered_sql
from ferry.copy.validate_pushdown_texts import (
    ESCAPE,
    FIELD_SEPARATOR,
    LINE_SEPARATOR,
    NULL_FIELD,
    ZERO_DATE_TEXT,
    FieldText,
    escaped_bytes,
    field_text,
    json_text,
    mysql_row,
    pg_row,
)
from ferry.schema.mapping import ColumnMapping, TableMapping

PG_ESCAPED = """replace("c"::text, chr(1), repeat(chr(1), 2))"""


def _column(source: str, target: str, **kw: object) -> ColumnMapping:
    return ColumnMapping("c", "c", source, target, True, **kw)  # type: ignore[arg-type]


PUSHED = [
    ("tinyint", "smallint"), ("smallint unsigned", "integer"), ("mediumint", "integer"),
    ("int", "integer"), ("int unsigned", "bigint"), ("bigint", "bigint"),
    ("bigint unsigned", "numeric(20,0)"), ("int(11)", "integer"), ("tinyint(1)", "boolean"),
    ("bool", "boolean"), ("tinyint", "boolean"), ("decimal(12,2)", "numeric(12,2)"),
    ("decimal(8)", "numeric(8,0)"), ("decimal", "numeric(10,0)"),
    ("decimal(12,2) unsigned", "numeric(12,2)"), ("numeric(5,3)", "numeric(9, 3)"),
    ("char(3)", "char(3)"), ("varchar(80)", "varchar(80)"), ("varchar(80)", "text"), ("text", "text"),
    ("mediumtext", "text"), ("longtext", "character varying"), ("char(3)", "character(3)"),
    ("enum('a','b')", "t_c"), ("enum('a','b')", "text"), ("date", "date"), ("datetime", "timestamp"),
    ("datetime(6)", "timestamp(6)"), ("timestamp(3)", "timestamptz(3)"),
    ("datetime(6)", "timestamp with time zone"), ("blob", "bytea"), ("longblob", "bytea"),
    ("varbinary(16)", "bytea"), ("binary(4)", "bytea"),
]  # fmt: skip
NOT_PUSHED = [
    ("float", "real"), ("double", "double precision"), ("json", "jsonb"), ("time", "time"),
    ("time(3)", "interval(3)"), ("year", "smallint"), ("bit(1)", "boolean"), ("bit(8)", "bit(8)"),
    ("set('x','y')", "text"), ("uuid", "uuid"), ("inet6", "inet"), ("decimal(12,2)", "numeric(12,3)"),
    ("decimal(12,2)", "numeric"), ("int", "numeric(10,2)"), ("int", "text"), ("text", "jsonb"),
    ("varchar(10)", "citext"), ("enum('a','b')", "integer"), ("datetime", "date"),
    ("date", "timestamp"), ("blob", "text"), ("text", "bytea"), ("geometry", "bytea"),
]  # fmt: skip


@pytest.mark.parametrize(("source", "target"), PUSHED)
def test_pushed_down(source: str, target: str) -> None:
    assert field_text(_column(source, target)) is not None


@pytest.mark.parametrize(("source", "target"), NOT_PUSHED)
def test_left_to_python(source: str, target: str) -> None:
    assert field_text(_column(source, target)) is None


@pytest.mark.parametrize(
    ("source", "target", "digested"),
    [("json", "jsonb", True), ("longtext", "jsonb", True), ("text", "jsonb", True),
     ("varchar(200)", "jsonb", True), ("json", "json", False), ("json", "text", False),
     ("blob", "jsonb", False), ("int", "jsonb", False)],
)  # fmt: skip
def test_json_into_jsonb_is_digested_as_jsonb_text(source: str, target: str, digested: bool) -> None:
    text = json_text(_column(source, target))
    assert (text is not None) == digested
    assert text is None or text.postgresql == PG_ESCAPED


def test_transformed_columns_are_left_to_python() -> None:
    for fields in ({"type": "mask"}, {"type": "castTo", "castTo": "text"}, {"type": "null"}):
        transform = Transform.model_validate({"column": "c", **fields})
        assert field_text(_column("varchar(10)", "varchar(10)", transform=transform)) is None


def test_texts_match_what_the_copy_wrote() -> None:
    char = field_text(_column("varchar(5)", "char(5)"))
    assert char is not None and "RTRIM(`c`)" in char.mysql and char.postgresql == PG_ESCAPED
    text = field_text(_column("text", "text"))
    assert (
        text is not None and "RTRIM" not in text.mysql and "CHAR(0 USING utf8mb4)" in text.mysql
    )  # NUL dropped
    boolean = field_text(_column("tinyint(1)", "boolean"))
    assert boolean is not None and "<> 0" in boolean.mysql and "END" in boolean.postgresql  # NULL stays NULL


@pytest.mark.parametrize(
    ("charset", "converted"),
    [
        ("utf8mb4", False),
        ("utf8mb3", False),
        ("ascii", False),
        ("latin1", True),
        ("cp1251", True),
        (None, True),
    ],
)
def test_texts_are_converted_to_utf8_unless_their_character_set_is_utf8_already(
    charset: str | None, converted: bool
) -> None:
    for found in (field_text(_column("text", "text"), charset), json_text(_column("json", "jsonb"), charset)):
        assert found is not None and "CHAR(0 USING utf8mb4)" in found.mysql  # NUL dropped either way
        assert ("CONVERT(`c` USING utf8mb4)" in found.mysql) is converted, found.mysql


# A whole second without its fraction, else the fraction without its trailing zeros.
TRIMMED = "IF(MICROSECOND(`c`) = 0, LEFT(`c`, 19), TRIM(TRAILING '0' FROM `c`))"


@pytest.mark.parametrize(
    ("source", "target", "mysql"),
    [
        ("datetime(6)", "timestamp(6) without time zone", TRIMMED),
        ("datetime(3)", "timestamp", TRIMMED),
        ("datetime", "timestamp(6)", "`c`"),  # no fraction: nothing trimmed (the seconds' zeros stay)
        ("timestamp(3)", "timestamptz(3)", f"CONCAT({TRIMMED}, '+00')"),
        ("timestamp", "timestamp with time zone", "CONCAT(`c`, '+00')"),
    ],
)
def test_timestamps_are_printed_as_postgresql_prints_them_with_every_digit_they_hold(
    source: str, target: str, mysql: str
) -> None:
    field = field_text(_column(source, target), as_copied=False)
    assert field is not None and (field.mysql, field.postgresql) == (mysql, '"c"::text')


def test_zero_dates_are_null_or_never_equal_as_copied_and_printed_as_stored() -> None:
    as_null = field_text(_column("datetime", "timestamp"))
    refused = field_text(_column("date", "date", zero_dates_error=True))
    assert as_null is not None and as_null.mysql == (
        "IF(YEAR(`c`) = 0 OR MONTH(`c`) = 0 OR DAYOFMONTH(`c`) = 0, NULL, `c`)"
    )
    assert refused is not None and f"'{ZERO_DATE_TEXT}'" in refused.mysql
    stored = field_text(_column("date", "date", zero_dates_error=True), as_copied=False)
    assert stored is not None and stored.mysql == "`c`" and stored.postgresql == refused.postgresql


def test_texts_as_stored_keep_nul_and_as_copied_drop_it() -> None:
    for found in (field_text, json_text):
        stored = found(_column("text", "jsonb" if found is json_text else "text"), "utf8mb4", False)
        copied = found(_column("text", "jsonb" if found is json_text else "text"), "utf8mb4", True)
        assert stored is not None and copied is not None and stored.postgresql == copied.postgresql
        assert "CHAR(0 USING utf8mb4)" in copied.mysql and "CHAR(0" not in stored.mysql
        assert stored.mysql == "REPLACE(CAST(`c` AS BINARY), X'01', X'0101')"


def test_row_line_escapes_texts_and_marks_null() -> None:
    text = field_text(_column("varchar(5)", "varchar(5)"))
    assert text is not None and text.mysql.startswith("REPLACE(") and "X'0101'" in text.mysql
    mysql = mysql_digest_sql("`t`", mysql_row(["`a`", "`b%%`"]), ["`id` > %s"])
    assert "CONCAT_WS(X'012C', IFNULL(`a`, X'014E'), IFNULL(`b%%`, X'014E'))" in mysql
    # PyMySQL formats the statement: names come with their `%` doubled, and stay so (once).
    assert "`b%%`" in mysql and "`b%%%%`" not in mysql and mysql.endswith("WHERE `id` > %s")
    assert "LEFT(MD5(" in mysql and "SUM(" in mysql
    texts = [FieldText("`a`", '"a"::text'), FieldText("`b`", '"b"::text')]
    pg = pg_digest_sql('"t"', pg_row(texts, [True, False]), [])
    null, separator = "chr(1) || 'N'", "chr(1) || ','"
    assert f"""coalesce("a"::text, {null}) || ({separator}) || coalesce("b"::text, {null})""" in pg
    assert "::bit(60)::bigint" in pg and "left(md5(" in pg and "WHERE" not in pg


def test_target_columns_that_cannot_be_null_are_given_to_concat_ws_as_they_are() -> None:
    number = field_text(_column("int", "integer"))
    text = field_text(_column("varchar(5)", "varchar(5)"))
    assert number is not None and text is not None and number.pg_value == '"c"' and text.pg_value is None
    null, separator = "chr(1) || 'N'", "chr(1) || ','"
    line = pg_row([number, text, number], [False, False, True])
    assert line == (
        f'concat_ws({separator}, "c", coalesce({text.postgresql}, {null}), coalesce("c"::text, {null}))'
    )
    assert pg_row([text, number], [False, True]).startswith(f"coalesce({text.postgresql}, {null}) || ")


# Values made of the bytes the separators and NULL_FIELD are made of, so that hypothesis finds
# whatever would collide; None is NULL. A bare number is a text without U+0001.
_VALUE = st.one_of(
    st.none(), st.lists(st.sampled_from([b"\x01", b",", b";", b"N", b"a"]), max_size=5).map(b"".join)
)
_ROWS = st.lists(st.lists(_VALUE, min_size=1, max_size=3), min_size=1, max_size=3)


def _range_text(rows: list[list[bytes | None]]) -> bytes:
    """A range as the servers spell it (ferry.copy.validate_pushdown_texts)."""
    lines = (FIELD_SEPARATOR.join(NULL_FIELD if v is None else escaped_bytes(v) for v in row) for row in rows)
    return LINE_SEPARATOR.join(lines)


def _decoded(text: bytes) -> list[list[bytes | None]]:
    """The rows a range's text holds, read from the left (one or more rows)."""
    rows: list[list[bytes | None]] = [[]]
    value: bytearray | None = bytearray()
    at = 0
    while at < len(text):
        byte, after = text[at : at + 1], text[at + 1 : at + 2]
        at += 1
        if byte != ESCAPE:
            assert value is not None, "a value after NULL"
            value += byte
            continue
        at += 1
        if after == ESCAPE:
            assert value is not None, "a value after NULL"
            value += ESCAPE
        elif after == b"N":
            assert value == b"", "NULL inside a value"
            value = None
        else:
            assert after in (b",", b";"), f"U+0001 before {after!r}"
            rows[-1].append(None if value is None else bytes(value))
            value = bytearray()
            if after == b";":
                rows.append([])
    rows[-1].append(None if value is None else bytes(value))
    return rows


@given(_ROWS)
def test_a_range_of_rows_is_spelled_in_a_text_that_decodes_one_way_only(
    rows: list[list[bytes | None]],
) -> None:
    """Whatever the texts hold and however many fields a row has, a range's text decodes back
    into its rows: no two different ranges (of as many rows: the digests compare the counts too)
    spell the same text, the premise of comparing their hashes."""
    assert _decoded(_range_text(rows)) == rows


def _never() -> Any:
    raise AssertionError("deciding the split connects to nothing")


def _job(source: str = "mysql") -> CopyJob:
    """A job whose endpoints are never connected: only their dialects are read."""
    sources: dict[str, Endpoint] = {
        "mysql": MySQLEndpoint(_never, _never),
        "postgresql": PgEndpoint(_never),
        "sqlite": SQLiteEndpoint(_never),
    }
    return CopyJob("u", Endpoints(sources[source], PgEndpoint(_never)), CopySpec())


def _table(columns: list[tuple[str, str, str]], key: tuple[str, ...] = ("id",)) -> TableMapping:
    cols = tuple(ColumnMapping(n, n, s, t, n not in key) for n, s, t in columns)
    return TableMapping(None, "t", "public", "t", cols, key)


def test_split_pushes_down_what_it_can_and_pairs_the_rest_by_key() -> None:
    full = split(_job(), _table([("id", "bigint", "bigint"), ("v", "varchar(9)", "varchar(9)")]))
    assert full is not None and [c.source for c in full.pushed] == ["id", "v"] and not full.rest
    no_key = split(_job(), _table([("id", "bigint", "bigint"), ("v", "text", "text")], key=()))
    assert no_key is not None and not no_key.rest  # all pushed down: one multiset digest, no key needed
    hybrid = split(_job(), _table([("id", "bigint", "bigint"), ("v", "text", "text"),
                                   ("j", "json", "jsonb"), ("f", "double", "double precision")]))  # fmt: skip
    assert hybrid is not None and [c.source for c in hybrid.rest] == ["f"]
    assert [c.source for c in hybrid.json] == ["j"] and [c.source for c in hybrid.pushed] == ["id", "v"]
    # JSON into jsonb joins the servers' digest: no key needed, not even a pushed-down column.
    for columns, key in (([("id", "bigint", "bigint"), ("j", "json", "jsonb")], ()),
                         ([("j", "longtext", "jsonb")], ())):  # fmt: skip
        servers = split(_job(), _table(columns, key=key))
        assert servers is not None and not servers.rest and [c.source for c in servers.json] == ["j"]


def test_split_leaves_the_table_to_python_when_the_servers_cannot_help() -> None:
    keyless_float = _table([("id", "bigint", "bigint"), ("f", "double", "double precision")], key=())
    only_key = _table([("id", "bigint", "bigint"), ("f", "double", "double precision")])
    float_key = _table(
        [("f", "double", "double precision"), ("v", "text", "text"), ("j", "json", "jsonb")], ("f",)
    )
    json_text_target = _table([("id", "bigint", "bigint"), ("j", "json", "json")], key=())
    for mapping in (keyless_float, only_key, float_key, json_text_target):
        assert split(_job(), mapping) is None, mapping.columns
    plain = _table([("id", "bigint", "bigint"), ("v", "text", "text")])
    assert split(_job("postgresql"), plain) is None and split(_job("sqlite"), plain) is None


def test_only_a_key_range_of_one_digested_key_is_digested_in_key_order() -> None:
    mapping = _table([("id", "int", "integer"), ("a", "varchar(5)", "varchar(5)")])
    ranged = (Predicate("`id` > %s", [1]), Predicate('"id" > 1'))
    assert ordered_keys(mapping, mapping.columns, ranged) == ("`id`", '"id"')
    assert ordered_keys(mapping, mapping.columns, None) is None  # a whole table: rows summed
    assert ordered_keys(mapping, mapping.columns[1:], ranged) is None  # the key left to Python
    pair = _table([("id", "int", "integer"), ("b", "int", "integer")], key=("id", "b"))
    assert ordered_keys(pair, pair.columns, ranged) is None
    source = mysql_ordered_sql("`t`", "CONCAT_WS(',', `id`)", ["`id` > %s"], "`id`")
    assert source.startswith("SELECT COUNT(*), SHA2(GROUP_CONCAT(")
    assert "ORDER BY `id` SEPARATOR X'013B'), 256)" in source
    scanned = mysql_ordered_sql("`t`", "CONCAT_WS(',', `id`)", ["`id` > %s"], None)  # in scan order
    joined = "SHA2(GROUP_CONCAT(CONCAT_WS(',', `id`) SEPARATOR X'013B'), 256)"
    assert scanned == f"SELECT COUNT(*), {joined} FROM `t` WHERE `id` > %s"
    target = pg_ordered_sql('"t"', '"id"::text', ['"id" > 1'], '"id"')
    assert (
        "encode(sha256(convert_to(string_agg(line, chr(1) || ';'), 'UTF8')), 'hex')" in target
        and target.endswith('WHERE "id" > 1 ORDER BY "id") AS ranged')
    )
