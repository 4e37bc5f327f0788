"""MariaDB → PostgreSQL checksums computed by the servers (ferry.copy.validate_pushdown_mysql), on
real servers: every pushed-down type validates equal on the servers' path after a real copy, a
single changed value of each kind is found and named in its key range, a JSON column is compared
in Python beside the servers' digest (the hybrid), and two rows that concatenate alike differ."""

from __future__ import annotations

import datetime as dt
import importlib
import re
from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal

import pymysql
import pytest

from ferry.api.migration import CopySpec
from ferry.copy import (
    CopyJob,
    Endpoints,
    plan_ranges,
    plan_units,
    run_units,
    validate,
    validate_pushdown_mysql,
)
from ferry.copy import validate_pushdown_ordered as ordered
from ferry.copy.validate import Compared, compare
from ferry.copy.validate_pushdown_mysql import digests
from ferry.copy.validate_ranges import ValidationRange, range_predicates
from ferry.schema.mapping import TableMapping
from harness.databases import Database
from integration.copy.helpers import mysql_endpoint, mysql_exec, pg_endpoint, pg_exec, pg_rows, table_mapping

ROWS = 600
RANGE_ROWS = 100  # six ranges of keys 1..600
# The module (ferry.copy exports its function validate_ranges under the same name).
validate_ranges = importlib.import_module("ferry.copy.validate_ranges")

# (name, MariaDB column, the source type as Ferry reads it, the PostgreSQL target type)
KINDS: tuple[tuple[str, str, str, str], ...] = (
    ("id", "BIGINT NOT NULL PRIMARY KEY", "bigint", "bigint"),
    ("ti", "TINYINT", "tinyint", "smallint"),
    ("su", "SMALLINT UNSIGNED", "smallint unsigned", "integer"),
    ("mi", "MEDIUMINT", "mediumint", "integer"),
    ("i", "INT", "int", "integer"),
    ("iu", "INT UNSIGNED", "int unsigned", "bigint"),
    ("bi", "BIGINT", "bigint", "bigint"),
    ("bu", "BIGINT UNSIGNED", "bigint unsigned", "numeric(20,0)"),
    ("flag", "TINYINT(1)", "tinyint(1)", "boolean"),
    ("d", "DECIMAL(12,2)", "decimal(12,2)", "numeric(12,2)"),
    ("d0", "DECIMAL(30,0)", "decimal(30,0)", "numeric(30,0)"),
    ("c", "CHAR(5)", "char(5)", "char(5)"),
    ("vc", "VARCHAR(40)", "varchar(40)", "varchar(40)"),
    ("t", "TEXT", "text", "text"),
    ("e", "ENUM('small','big','ünï')", "enum('small','big','ünï')", "kinds_e"),
    ("dd", "DATE", "date", "date"),
    ("dt", "DATETIME(6)", "datetime(6)", "timestamp(6)"),
    ("ts", "TIMESTAMP(6) NULL DEFAULT NULL", "timestamp(6)", "timestamptz(6)"),
    ("d3", "DATETIME(3)", "datetime(3)", "timestamp(6)"),  # the target could hold digits the source has not
    ("vb", "VARBINARY(20)", "varbinary(20)", "bytea"),
    ("bl", "BLOB", "blob", "bytea"),
    ("bn", "BINARY(4)", "binary(4)", "bytea"),
)
NAMES = [k[0] for k in KINDS]
LABELS = ("small", "big", "ünï")
EPOCH = dt.datetime(2020, 1, 1)


def _row(i: int) -> tuple[object, ...]:
    """Row `i`: 1 all NULL, 2 the largest values, 3 the smallest and emptiest, then mixed."""
    if i == 1:
        return (1, *([None] * (len(KINDS) - 1)))
    if i == 2:
        return (2, 127, 65535, 8388607, 2147483647, 4294967295, 2**63 - 1, 2**64 - 1, 1,
                Decimal("9999999999.99"), Decimal(10**30 - 1), "zzzzz", "x" * 40, "ünï 😀 " * 100, "ünï",
                dt.date(9999, 12, 31), dt.datetime(9999, 12, 31, 23, 59, 59, 999999),
                dt.datetime(2038, 1, 19, 3, 14, 7, 999999), dt.datetime(9999, 12, 31, 23, 59, 59, 999000),
                b"\xff" * 20, b"\x00\xff" * 1000,
                b"\xff" * 4)  # fmt: skip
    if i == 3:
        return (3, -128, 0, -8388608, -2147483648, 0, -(2**63), 0, 0, Decimal("-9999999999.99"),
                Decimal(-(10**30 - 1)), "", "", "", "small", dt.date(1000, 1, 1), dt.datetime(1000, 1, 1),
                dt.datetime(1970, 1, 1, 0, 0, 1), dt.datetime(1000, 1, 1, 0, 0, 10), b"", b"",
                b"\x00\x00\x00\x00")  # fmt: skip
    return (
        i, i % 256 - 128, i * 97 % 65536, -i * 1013, i * 12345 * (-1) ** i, i * 7_000_000,
        i * 10**15 * (-1) ** i, 2**63 + i, i % 3, Decimal(i * (-1) ** i) / 100, Decimal(10**25 + i),
        f"c{i % 7}" if i % 5 else " a",
        f"v{i}" + " " * (i % 3), f"tab\t{i}\nnew \"q\" \\ 'é' 😀" if i % 4 else "  ", LABELS[i % 3],
        dt.date(2000, 1, 1) + dt.timedelta(days=i), EPOCH + dt.timedelta(minutes=i, microseconds=i),
        EPOCH + dt.timedelta(hours=i, microseconds=999_999 - i),
        EPOCH + dt.timedelta(seconds=i * 10, milliseconds=i % 3 * 100), bytes([0, i % 256, 0]),
        b"\x00" * (i % 4) + i.to_bytes(2, "big"), bytes([i % 256, 0]),
    )  # fmt: skip


def _insert(db: Database, table: str, columns: Sequence[str], rows: Sequence[tuple[object, ...]]) -> None:
    conn = pymysql.connect(host=db.host, port=db.port, user=db.user, password=db.password, database=db.name,
                           charset="utf8mb4", autocommit=True)  # fmt: skip
    try:
        with conn.cursor() as cur:
            cur.execute("SET time_zone = '+00:00'")
            marks = ", ".join(["%s"] * len(columns))
            cur.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", list(rows))
    finally:
        conn.close()


async def _copy(source_db: Database, target_db: Database, mapping: TableMapping) -> CopyJob:
    job = CopyJob(
        "val", Endpoints(mysql_endpoint(source_db), pg_endpoint(target_db)), CopySpec(batch_size=250)
    )
    assert (await run_units(job, await plan_units([mapping], job.endpoints.source, job.copy))).ok
    return job


async def _kinds(source_db: Database, target_db: Database) -> tuple[CopyJob, TableMapping]:
    mysql_exec(source_db, f"CREATE TABLE kinds ({', '.join(f'{n} {ddl}' for n, ddl, _, _ in KINDS)})")
    _insert(source_db, "kinds", NAMES, [_row(i) for i in range(1, ROWS + 1)])
    columns = ", ".join(f"{n} {t}" for n, _, _, t in KINDS)
    pg_exec(target_db, "CREATE TYPE kinds_e AS ENUM ('small', 'big', 'ünï')",
            f"CREATE TABLE kinds ({columns}, PRIMARY KEY (id))")  # fmt: skip
    mapping = table_mapping("kinds", [(n, s, t) for n, _, s, t in KINDS], not_null=("id",))
    return await _copy(source_db, target_db, mapping), mapping


async def _paths(job: CopyJob, mapping: TableMapping) -> list[Compared]:
    ranges = await plan_ranges([mapping], job.endpoints.source, RANGE_ROWS)
    assert len(ranges) == 6
    return [await compare(job, mapping, True, 10_000, range_predicates(job, r)) for r in ranges]


def _range_of(ranges: Sequence[ValidationRange], key: int) -> str:
    (found,) = [
        r.range_id for r in ranges if (r.lo is None or r.lo[0] < key) and (r.hi is None or key <= r.hi[0])
    ]
    return found


def _names_key(difference: str | None, key: int) -> bool:
    match = re.fullmatch(r"keys \((\d+)\) \.\. \((\d+)\)", difference or "")
    return match is not None and int(match[1]) <= key <= int(match[2])


# (the target column changed, its new value as SQL, the row): one value, told apart by the servers.
DAMAGES = (
    ("ti", "ti + 1", 150), ("su", "su - 1", 2), ("mi", "mi + 1", 250), ("i", "-i", 351),
    ("iu", "iu + 1", 450), ("bi", "bi + 1", 3), ("bu", "bu - 1", 2), ("flag", "NOT flag", 560),
    ("d", "d + 0.01", 120), ("d0", "d0 + 1", 230), ("c", "'c9'", 340), ("vc", "vc || ' '", 440),
    ("vc", "''", 1), ("t", "NULL", 3), ("t", "upper(t)", 545), ("e", "'big'", 108),
    ("dd", "dd + 1", 213), ("dt", "dt + interval '1 microsecond'", 312), ("dt", "'infinity'", 1),
    ("ts", "ts - interval '1 microsecond'", 413), ("d3", "d3 + interval '1 microsecond'", 290),
    ("d3", "d3 - interval '10 seconds'", 2), ("vb", "vb || '\\x00'::bytea", 517),
    ("bl", "''::bytea", 1), ("bl", "NULL", 118), ("bn", "'\\x00000001'::bytea", 3),
    ("bn", "'\\x'::bytea", 222),
)  # fmt: skip


async def test_every_pushed_down_kind_validates_on_the_servers_and_each_change_is_named(
    mariadb_db: Database, pg_db: Database
) -> None:
    job, mapping = await _kinds(mariadb_db, pg_db)
    whole = await compare(job, mapping, True, 10_000)
    assert (whole.path, whole.checksum_match, whole.source_rows, whole.target_rows) == (
        "servers",
        True,
        ROWS,
        ROWS,
    )
    assert {(c.path, c.checksum_match) for c in await _paths(job, mapping)} == {("servers", True)}
    (clean,) = await validate(job, [mapping], checksum=True, range_rows=RANGE_ROWS)
    assert clean.ok and clean.checksum and clean.target_rows == ROWS

    ranges = await plan_ranges([mapping], job.endpoints.source, RANGE_ROWS)
    pg_exec(pg_db, "CREATE TABLE kinds_kept AS SELECT * FROM kinds")
    for column, value, key in DAMAGES:
        pg_exec(pg_db, f"UPDATE kinds SET {column} = {value} WHERE id = {key}")
        (found,) = await validate(job, [mapping], checksum=True, range_rows=RANGE_ROWS)
        case = f"{column} = {value} at {key}"
        assert not found.ok and found.mismatched_ranges == (_range_of(ranges, key),), case
        assert _names_key(found.first_difference, key), (case, found.first_difference)
        restore = (
            f"UPDATE kinds SET {column} = k.{column} FROM kinds_kept k WHERE k.id = kinds.id AND k.id = {key}"
        )
        pg_exec(pg_db, restore)
    (again,) = await validate(job, [mapping], checksum=True, range_rows=RANGE_ROWS)
    assert again.ok and again.checksum == clean.checksum


class _Calls:
    """A wrapped coroutine function that keeps what each call returned."""

    def __init__(self, call: Callable[..., Awaitable[object]]) -> None:
        self.call = call
        self.results: list[object] = []

    async def __call__(self, *args: object) -> object:
        self.results.append(await self.call(*args))
        return self.results[-1]


async def test_a_key_range_is_one_sha256_per_side_in_key_order_and_a_too_long_one_is_digested_per_row(
    mariadb_db: Database, pg_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    job, mapping = await _kinds(mariadb_db, pg_db)
    (_, second, *_) = await plan_ranges([mapping], job.endpoints.source, RANGE_ROWS)
    predicates = range_predicates(job, second)
    on_s, on_t, _ = await digests(job, mapping, mapping.columns, predicates)
    assert on_s == on_t and on_s[0] == RANGE_ROWS and re.fullmatch("[0-9a-f]{64}", on_s[1]), on_s
    whole_s, whole_t, _ = await digests(job, mapping, mapping.columns, None)  # a whole table: per row
    assert whole_s == whole_t and whole_s[1].isdigit()

    # MariaDB joins the lines in scan order first. A scan that does not read in key order (here
    # forced: descending) makes the digests differ; the range is joined again sorted by key, and
    # is equal, before anything is called different.
    sources = _Calls(ordered._source)
    monkeypatch.setattr(ordered, "_source", sources)
    by_scan = ordered.mysql_ordered_sql
    descending = lambda rel, line, where, key: by_scan(rel, line, where, key or "id DESC")  # noqa: E731
    monkeypatch.setattr(ordered, "mysql_ordered_sql", descending)
    assert await digests(job, mapping, mapping.columns, predicates) == (on_s, on_t, False)
    assert len(sources.results) == 2 and sources.results[0] != on_s and sources.results[1] == on_s
    monkeypatch.undo()

    # Two rows of the range swap their `t`: the multiset of values stays, the rows differ.
    pg_exec(pg_db, "UPDATE kinds SET t = CASE id WHEN 105 THEN (SELECT t FROM kinds WHERE id = 106) "
                   "ELSE (SELECT t FROM kinds WHERE id = 105) END WHERE id IN (105, 106)")  # fmt: skip
    swapped_s, swapped_t, _ = await digests(job, mapping, mapping.columns, predicates)
    assert swapped_s == on_s and swapped_t != on_t

    # A range whose joined text is longer than MariaDB's cap is cut there (with a warning): it is
    # then digested per row, which still tells the swap apart, and equal ranges stay equal.
    monkeypatch.setattr("ferry.copy.validate_pushdown_ordered.MAX_BYTES", 1024)
    per_row_s, per_row_t, _ = await digests(job, mapping, mapping.columns, predicates)
    assert per_row_s[1].isdigit() and per_row_s[0] == RANGE_ROWS and per_row_s != per_row_t
    pg_exec(pg_db, "UPDATE kinds SET t = CASE id WHEN 105 THEN (SELECT t FROM kinds WHERE id = 106) "
                   "ELSE (SELECT t FROM kinds WHERE id = 105) END WHERE id IN (105, 106)")  # fmt: skip
    restored_s, restored_t, _ = await digests(job, mapping, mapping.columns, predicates)
    assert restored_s == restored_t == per_row_s


async def test_zero_dates_are_compared_as_the_copy_wrote_them(mariadb_db: Database, pg_db: Database) -> None:
    mysql_exec(mariadb_db, "CREATE TABLE z (id INT PRIMARY KEY, d DATE, t DATETIME)")
    mysql_exec(mariadb_db, "SET SESSION sql_mode = ''",
               "INSERT INTO z VALUES (1, '0000-00-00', '0000-00-00 00:00:00'), (2, '2024-00-10', "
               "'2024-05-00 10:00:00'), (3, '2024-05-10', '2024-05-10 10:00:00')")  # fmt: skip
    pg_exec(pg_db, "CREATE TABLE z (id integer PRIMARY KEY, d date, t timestamp)")
    mapping = table_mapping("z", [("id", "int", "integer"), ("d", "date"), ("t", "datetime", "timestamp")])
    job = await _copy(mariadb_db, pg_db, mapping)
    found = await compare(job, mapping, True, 10_000)
    assert (found.path, found.checksum_match) == ("servers", True)
    pg_exec(pg_db, "UPDATE z SET d = '2000-01-01' WHERE id = 2")
    assert (await compare(job, mapping, True, 10_000)).checksum_match is False


async def test_values_the_copy_changed_are_equal_in_its_form_which_a_table_then_starts_with(
    mariadb_db: Database, pg_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The source is first digested as stored; a NUL in a text (dropped by the copy) or a zero date
    (written as NULL) makes that form differ, and the copy's form, asked second, is equal. The
    table's next ranges start in the copy's form (one query each); another table does not."""
    monkeypatch.setattr(validate_pushdown_mysql, "_AS_COPIED", set())
    for table in ("changed", "plain"):
        mysql_exec(mariadb_db, f"CREATE TABLE {table} (id INT PRIMARY KEY, t TEXT, d DATETIME(6))")
        pg_exec(pg_db, f"CREATE TABLE {table} (id integer PRIMARY KEY, t text, d timestamp(6))")
    rows = [(i, f"row {i}", EPOCH + dt.timedelta(seconds=i, microseconds=i * 10)) for i in range(1, 301)]
    _insert(mariadb_db, "plain", ["id", "t", "d"], rows)
    _insert(mariadb_db, "changed", ["id", "t", "d"], rows)
    mysql_exec(mariadb_db, "SET SESSION sql_mode = ''", "UPDATE changed SET t = 'a\\0b' WHERE id = 50",
               "UPDATE changed SET d = '2024-05-00 10:00:00' WHERE id = 250")  # fmt: skip
    columns = [("id", "int", "integer"), ("t", "text"), ("d", "datetime(6)", "timestamp(6)")]
    sources = _Calls(ordered._source)
    monkeypatch.setattr(ordered, "_source", sources)
    for table in ("changed", "plain"):
        mapping = table_mapping(table, columns)
        job = await _copy(mariadb_db, pg_db, mapping)
        if table == "changed":  # what the copy wrote for the NUL and the zero date
            assert pg_rows(pg_db, "SELECT t, d FROM changed WHERE id IN (50, 250) ORDER BY id") == [
                ("ab", EPOCH + dt.timedelta(seconds=50, microseconds=500)),
                ("row 250", None),
            ]
        first, second, third = await plan_ranges([mapping], job.endpoints.source, RANGE_ROWS)
        for each in (first, second, third):
            sources.results.clear()
            on_s, on_t, _ = await digests(job, mapping, mapping.columns, range_predicates(job, each))
            assert on_s == on_t and on_s[0] == RANGE_ROWS, (table, each)
            # The NUL's range: both forms; the next ranges: the copy's form at once.
            assert len(sources.results) == (2 if table == "changed" and each is first else 1), table
        whole = await compare(job, mapping, True, 10_000)  # a whole table, per row: equal too
        assert (whole.path, whole.checksum_match) == ("servers", True)
    assert {("val", "`changed`")} == validate_pushdown_mysql._AS_COPIED
    pg_exec(pg_db, "UPDATE changed SET t = 'ab ' WHERE id = 50")
    assert (await compare(job, table_mapping("changed", columns), True, 10_000)).checksum_match is False


@pytest.mark.parametrize("keyed", [True, False])
async def test_values_that_concatenate_alike_differ(
    keyed: bool, mariadb_db: Database, pg_db: Database
) -> None:
    key = "id INT PRIMARY KEY, " if keyed else "id INT, "
    mysql_exec(mariadb_db, f"CREATE TABLE pairs ({key}a VARCHAR(10), b VARCHAR(10))",
               "INSERT INTO pairs VALUES (1, 'ab', 'c'), (2, 'x', NULL), (3, NULL, 'y'), "
               "(4, 'x', CONCAT('y', CHAR(1), ',z'))")  # fmt: skip
    pg_exec(pg_db, f"CREATE TABLE pairs ({key.replace('INT', 'integer')}a varchar(10), b varchar(10))")
    mapping = table_mapping("pairs", [("id", "int", "integer"), ("a", "varchar(10)"), ("b", "varchar(10)")],
                            key=("id",) if keyed else ())  # fmt: skip
    job = await _copy(mariadb_db, pg_db, mapping)
    assert (await compare(job, mapping, True, 10_000)).path == "servers"
    for damage in (
        "a = 'a', b = 'bc' WHERE id = 1",
        "a = NULL, b = 'x' WHERE id = 2",
        "a = '', b = 'y' WHERE id = 3",
        # Unescaped quoting would spell this row's line `1,"ab","c",` like the original's start.
        """a = 'ab","c', b = NULL WHERE id = 1""",
        """a = 'ab"', b = '"c' WHERE id = 1""",
        # The field separator, U+0001 and `,`, in the texts: undoubled, ('x', 'y<E>,z') and
        # ('x<E>,y', 'z') would both spell `4<E>,x<E>,y<E>,z`.
        "a = 'x' || chr(1) || ',y', b = 'z' WHERE id = 4",
        # NULL's field, U+0001 and `N`, as a text: undoubled, it would spell NULL.
        "b = chr(1) || 'N' WHERE id = 2",
    ):
        pg_exec(pg_db, f"UPDATE pairs SET {damage}")
        found = await compare(job, mapping, True, 10_000)
        assert (found.path, found.checksum_match) == ("canonical", False), damage
        assert found.first_difference == ("keys (1) .. (4)" if keyed else "table")
        pg_exec(
            pg_db,
            "DELETE FROM pairs",
            "INSERT INTO pairs VALUES (1, 'ab', 'c'), (2, 'x', NULL), (3, NULL, 'y'), "
            "(4, 'x', 'y' || chr(1) || ',z')",
        )


DOCS = (
    """(1, 'a', '{"b": 1, "a": [1.5, "ü"]}', 0.1), (2, 'b', NULL, NULL), """
    """(3, 'c', '{"n": 12345678901234567890}', 1e300), (4, 'd', '[]', -0.5)"""
)


async def test_json_and_double_columns_are_compared_in_python_beside_the_servers_digest(
    mariadb_db: Database, pg_db: Database
) -> None:
    mysql_exec(
        mariadb_db, "CREATE TABLE docs (id BIGINT PRIMARY KEY, name VARCHAR(20), doc JSON, score DOUBLE)"
    )
    mysql_exec(mariadb_db, f"INSERT INTO docs VALUES {DOCS}")
    pg_exec(
        pg_db,
        "CREATE TABLE docs (id bigint PRIMARY KEY, name varchar(20), doc jsonb, score double precision)",
    )
    mapping = table_mapping("docs", [("id", "bigint"), ("name", "varchar(20)"), ("doc", "json", "jsonb"),
                                     ("score", "double", "double precision")])  # fmt: skip
    job = await _copy(mariadb_db, pg_db, mapping)
    found = await compare(job, mapping, True, 10_000)
    assert (found.path, found.checksum_match, found.target_rows) == ("hybrid", True, 4)
    (clean,) = await validate(job, [mapping], checksum=True)
    pg_exec(pg_db, "CREATE TABLE docs_kept AS SELECT * FROM docs")
    damages = ("doc = doc || '{\"c\": 2}' WHERE id = 1", "doc = '{}' WHERE id = 2",
               "score = 0.2 WHERE id = 1", "name = 'z' WHERE id = 4")  # fmt: skip
    for damage in damages:
        pg_exec(pg_db, f"UPDATE docs SET {damage}")
        found = await compare(job, mapping, True, 10_000)
        assert (found.path, found.checksum_match, found.first_difference) == (
            "canonical",
            False,
            "keys (1) .. (4)",
        )
        (table,) = await validate(job, [mapping], checksum=True)
        assert not table.ok and table.mismatched_ranges == ("public.docs",), damage
        pg_exec(pg_db, "DELETE FROM docs", "INSERT INTO docs SELECT * FROM docs_kept")
    (again,) = await validate(job, [mapping], checksum=True)
    assert again.ok and again.checksum == clean.checksum


def _doc(i: int) -> str:
    """Row i's JSON as an application might write it: compact, keys in its own order, a duplicate
    key, numbers with scale and exponents, escapes; every tenth row already as jsonb prints it."""
    if i % 10 == 0:
        return f'{{"n": {i}, "tag": "t{i}", "list": [1.0, 2]}}'
    return (f'{{"z":{i},"a":[1.50,-0.0,{i}e-2,1E+2,true,null],"é\\u00e9":"tab\\t\\"q\\" 😀 \\u001f",'
            f'"a":[1.50,-0.0,{i}e-2,1E+2,true,null],"nested":{{"bb":{{}},"a":[]}}}}')  # fmt: skip


def _set_doc(db: Database, key: int, text: str) -> None:
    conn = pymysql.connect(host=db.host, port=db.port, user=db.user, password=db.password, database=db.name,
                           charset="utf8mb4", autocommit=True)  # fmt: skip
    try:
        with conn.cursor() as cur:
            cur.execute("UPDATE jdocs SET doc = %s WHERE id = %s", (text, key))
    finally:
        conn.close()


async def _json_table(source_db: Database, target_db: Database) -> tuple[CopyJob, TableMapping]:
    mysql_exec(source_db, "CREATE TABLE jdocs (id BIGINT PRIMARY KEY, name VARCHAR(20), doc JSON)")
    _insert(source_db, "jdocs", ["id", "name", "doc"],
            [(i, f"n{i}", None if i % 7 == 0 else _doc(i)) for i in range(1, 301)])  # fmt: skip
    pg_exec(target_db, "CREATE TABLE jdocs (id bigint PRIMARY KEY, name varchar(20), doc jsonb)")
    mapping = table_mapping("jdocs", [("id", "bigint"), ("name", "varchar(20)"), ("doc", "json", "jsonb")])
    return await _copy(source_db, target_db, mapping), mapping


async def test_json_into_jsonb_is_digested_by_the_target_and_rendered_on_the_source(
    mariadb_db: Database, pg_db: Database
) -> None:
    job, mapping = await _json_table(mariadb_db, pg_db)
    # Documents already spelled as jsonb prints them: the servers alone. (First: once a range was
    # rendered, the next ones of the table are rendered at once.)
    mysql_exec(mariadb_db, "CREATE TABLE jdocs_kept AS SELECT * FROM jdocs")
    pg_exec(pg_db, "CREATE TABLE jdocs_kept AS SELECT * FROM jdocs")
    mysql_exec(mariadb_db, 'UPDATE jdocs SET doc = \'{"n": 1, "tag": "x", "list": [1.0, 2]}\'')
    pg_exec(pg_db, 'UPDATE jdocs SET doc = \'{"tag": "x", "n": 1, "list": [1.0, 2]}\'')
    assert (await compare(job, mapping, True, 10_000)).path == "servers"
    mysql_exec(mariadb_db, "UPDATE jdocs j JOIN jdocs_kept k ON k.id = j.id SET j.doc = k.doc")
    pg_exec(pg_db, "DELETE FROM jdocs", "INSERT INTO jdocs SELECT * FROM jdocs_kept")

    ranges = await plan_ranges([mapping], job.endpoints.source, RANGE_ROWS)
    assert len(ranges) == 3
    found = [await compare(job, mapping, True, 10_000, range_predicates(job, r)) for r in ranges]
    assert {(c.path, c.checksum_match) for c in found} == {("servers+json", True)}
    (clean,) = await validate(job, [mapping], checksum=True, range_rows=RANGE_ROWS)
    assert clean.ok and clean.checksum and clean.target_rows == 300

    # A key order, spacing or duplicate key of the source's own is no change: jsonb holds one form.
    mysql_exec(
        mariadb_db, 'UPDATE jdocs SET doc = \'{ "list" : [1.0,2] , "tag":"t10","n":10 }\' WHERE id = 10'
    )
    mysql_exec(mariadb_db, "UPDATE jdocs SET doc = JSON_INSERT(doc, '$.z', 5) WHERE id = 11")
    again = await compare(job, mapping, True, 10_000, range_predicates(job, ranges[0]))
    assert (again.path, again.checksum_match) == ("servers+json", True)
    _set_doc(mariadb_db, 11, _doc(11))

    damages = (  # on the target: (the change, the row it is in)
        ("doc = jsonb_set(doc, '{z}', '12.0') WHERE id = 12", 12),  # 12 and 12.0 are not one number
        ("doc = doc || '{\"c\": 2}' WHERE id = 150", 150),
        ("doc = NULL WHERE id = 299", 299),
        ("doc = '{}' WHERE id = 14", 14),  # NULL on the source
        ("doc = (SELECT doc FROM jdocs_kept WHERE id = 202) WHERE id = 201", 201),
    )
    for damage, key in damages:
        pg_exec(pg_db, f"UPDATE jdocs SET {damage}")
        (table,) = await validate(job, [mapping], checksum=True, range_rows=RANGE_ROWS)
        assert not table.ok and table.mismatched_ranges == (_range_of(ranges, key),), damage
        assert _names_key(table.first_difference, key), (damage, table.first_difference)
        pg_exec(pg_db, "DELETE FROM jdocs", "INSERT INTO jdocs SELECT * FROM jdocs_kept")
    # Swapped between two rows of one range: each sum alone would not see it; the row's does.
    pg_exec(pg_db, "UPDATE jdocs SET doc = CASE id WHEN 21 THEN (SELECT doc FROM jdocs_kept WHERE id = 22) "
                   "ELSE (SELECT doc FROM jdocs_kept WHERE id = 21) END WHERE id IN (21, 22)")  # fmt: skip
    assert (await compare(job, mapping, True, 10_000)).checksum_match is False
    pg_exec(pg_db, "DELETE FROM jdocs", "INSERT INTO jdocs SELECT * FROM jdocs_kept")

    # A document the rendering declines (\u0001, the mark of a number's text, with a number written
    # with a fraction: not orjson's way) leaves the range to Python, which reads the others as
    # jsonb holds them too (-0.0 is 0.0, 1E+2 is 100).
    _set_doc(mariadb_db, 30, '{"x":"\\u0001","f":1.5}')  # not jsonb's spacing: rendered
    pg_exec(pg_db, 'UPDATE jdocs SET doc = \'{"x": "\\u0001", "f": 1.5}\' WHERE id = 30')
    declined = await compare(job, mapping, True, 10_000, range_predicates(job, ranges[0]))
    assert (declined.path, declined.checksum_match) == ("canonical", True)
    (last,) = await validate(job, [mapping], checksum=True, range_rows=RANGE_ROWS)
    assert last.ok


async def test_json_rendered_under_a_name_with_percent_and_quotes(
    mariadb_db: Database, pg_db: Database
) -> None:
    # The source's rendering read is a statement of its own: `%` doubled for the driver, names quoted.
    mysql_exec(mariadb_db, 'CREATE TABLE jt (id INT PRIMARY KEY, `d%"c` JSON)',
               """INSERT INTO jt VALUES (1, '{"b":1,"a":2}'), (2, NULL), (3, '[1E+2]')""")  # fmt: skip
    pg_exec(pg_db, 'CREATE TABLE jt (id integer PRIMARY KEY, "d%""c" jsonb)')
    mapping = table_mapping("jt", [("id", "int", "integer"), ('d%"c', "json", "jsonb")])
    # Written here as the copy writes it (the copy itself refuses a `%` in a MySQL column name).
    pg_exec(pg_db, """INSERT INTO jt VALUES (1, '{"b":1,"a":2}'), (2, NULL), (3, '[1E+2]')""")
    job = CopyJob("val", Endpoints(mysql_endpoint(mariadb_db), pg_endpoint(pg_db)), CopySpec())
    found = await compare(job, mapping, True, 10_000)
    assert (found.path, found.checksum_match, found.source_rows) == ("servers+json", True, 3)
    pg_exec(pg_db, 'UPDATE jt SET "d%""c" = \'[100.0]\' WHERE id = 3')
    # The digests alone: the canonical comparison a difference falls back to reads names unescaped.
    on_s, on_t, rendered = await digests(job, mapping, mapping.columns[:1], None, mapping.columns[1:])
    assert on_s != on_t and rendered


async def test_text_in_latin1_is_converted_and_text_in_utf8_is_hashed_as_it_is(
    mariadb_db: Database, pg_db: Database
) -> None:
    mysql_exec(mariadb_db, "CREATE TABLE cs (id INT PRIMARY KEY, l VARCHAR(20) CHARACTER SET latin1, "
               "u VARCHAR(20) CHARACTER SET utf8mb4)",
               "INSERT INTO cs VALUES (1, 'cafÃ©', 'naïve 😀'), (2, 'plain', 'plain'), "
               "(3, NULL, '')")  # fmt: skip
    pg_exec(pg_db, "CREATE TABLE cs (id integer PRIMARY KEY, l varchar(20), u varchar(20))")
    mapping = table_mapping("cs", [("id", "int", "integer"), ("l", "varchar(20)"), ("u", "varchar(20)")])
    job = await _copy(mariadb_db, pg_db, mapping)
    found = await compare(job, mapping, True, 10_000)
    assert (found.path, found.checksum_match) == ("servers", True)
    # A target holding the latin1 bytes of 'cafÃ©' read as UTF-8 ('café', what a copy that
    # skipped the conversion writes) differs, though those bytes are equal; so does any changed
    # UTF-8 text.
    for change in ("l = 'café'", "u = 'naive 😀'"):
        pg_exec(pg_db, "CREATE TABLE kept AS SELECT * FROM cs", f"UPDATE cs SET {change} WHERE id = 1")
        assert (await compare(job, mapping, True, 10_000)).checksum_match is False, change
        pg_exec(pg_db, "DELETE FROM cs", "INSERT INTO cs SELECT * FROM kept", "DROP TABLE kept")
    assert (await compare(job, mapping, True, 10_000)).checksum_match is True


async def test_a_mysql_source_is_cut_into_ranges_of_about_range_bytes_the_same_for_every_pod(
    mariadb_db: Database, pg_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(validate_ranges, "RANGE_BYTES", 400_000)
    monkeypatch.setattr(validate_ranges, "MIN_RANGE_ROWS", 100)
    rows = 3000
    mappings = []
    for table, value in (("narrow", "'n'"), ("wide", "REPEAT('w', 2000)")):
        mysql_exec(mariadb_db, "SET SESSION max_recursive_iterations = 100000",
                   f"CREATE TABLE {table} (id BIGINT PRIMARY KEY, v TEXT)",
                   f"INSERT INTO {table} WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s "
                   f"WHERE i < {rows}) SELECT i, {value} FROM s")  # fmt: skip
        pg_exec(pg_db, f"CREATE TABLE {table} (id bigint PRIMARY KEY, v text)")
        mappings.append(
            table_mapping(table, [("id", "bigint", "bigint"), ("v", "text", "text")], not_null=("id",))
        )
    job = await _copy(mariadb_db, pg_db, mappings[0])
    await _copy(mariadb_db, pg_db, mappings[1])
    ranges = await plan_ranges(mappings, job.endpoints.source)
    # The first 1,000 rows' values: ids of 2.893 digits on average, texts of 1 or 2,000 bytes, and
    # a separator per column. The narrow table: more than MAX_RANGE_ROWS keys fit, so one range.
    wide_rows = int(400_000 / (2.893 + 2000 + 2))
    assert [r.range_id for r in ranges if r.mapping.source_table == "narrow"] == ["public.narrow"]
    assert len([r for r in ranges if r.mapping.source_table == "wide"]) == -(-rows // wide_rows)
    # Every pod plans alone: the same rows give the same ranges.
    assert await plan_ranges(mappings, job.endpoints.source) == ranges
    tables = await validate(job, mappings, checksum=True)
    assert [(t.source_rows, t.target_rows, t.checksum_match) for t in tables] == [(rows, rows, True)] * 2


async def test_a_null_in_a_target_column_the_plan_made_not_null_is_a_difference(
    mariadb_db: Database, pg_db: Database
) -> None:
    """Such columns go to PostgreSQL's concat_ws as they are, which skips a NULL: the line is a
    field short, never equal to the source's."""
    mysql_exec(mariadb_db, "CREATE TABLE strict (id INT PRIMARY KEY, n INT NOT NULL, dd DATE NOT NULL, "
               "dt DATETIME(6) NOT NULL, t VARCHAR(10))",
               "INSERT INTO strict VALUES (1, 10, '2024-01-02', '2024-01-02 03:04:05.5', NULL), "
               "(2, 20, '2024-02-03', '2024-02-03 04:05:06', 'x'), "
               "(3, 30, '2024-03-04', '2024-03-04 05:06:07', '')")  # fmt: skip
    pg_exec(pg_db, "CREATE TABLE strict (id integer PRIMARY KEY, n integer NOT NULL, dd date NOT NULL, "
            "dt timestamp(6) NOT NULL, t varchar(10))")  # fmt: skip
    columns = [("id", "int", "integer"), ("n", "int", "integer"), ("dd", "date", "date"),
               ("dt", "datetime(6)", "timestamp(6)"), ("t", "varchar(10)", "varchar(10)")]  # fmt: skip
    mapping = table_mapping("strict", columns, not_null=("id", "n", "dd", "dt"))
    job = await _copy(mariadb_db, pg_db, mapping)
    clean = await compare(job, mapping, True, 10_000)
    assert (clean.path, clean.checksum_match) == ("servers", True)
    for column in ("n", "dd", "dt"):
        pg_exec(pg_db, f"ALTER TABLE strict ALTER COLUMN {column} DROP NOT NULL",
                f"UPDATE strict SET {column} = NULL WHERE id = 2")  # fmt: skip
        found = await compare(job, mapping, True, 10_000)
        assert (found.path, found.checksum_match) == ("canonical", False), column
        pg_exec(pg_db, "DELETE FROM strict")
        await _copy(mariadb_db, pg_db, mapping)
