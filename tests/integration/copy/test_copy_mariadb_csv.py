"""MariaDB → PostgreSQL through server-formatted CSV lines: awkward text, charsets, key-value batches."""

from __future__ import annotations

import pymysql
import pytest

from ferry.api.migration import CopySpec
from ferry.copy import CopyJob, Endpoints, mysql_csv_blocks, plan_units, run_units
from ferry.copy.mysql_source import MySQLSource
from ferry.copy.projection import build_projection
from ferry.schema.mapping import TableMapping
from harness.databases import Database, MariaDBServer
from integration.copy.helpers import mysql_endpoint, mysql_exec, pg_endpoint, pg_exec, pg_rows, table_mapping

# (id, text that CSV must quote, latin1 text); NUL is removed, as on the row path.
AWKWARD = [
    (1, 'say "hi", then leave', "café"),
    (2, "two\nlines\r\nand\ttab", "naïve"),
    (3, "back\\slash \\N \\x00", None),
    (4, "\\.", "Ø"),
    (5, "", ""),
    (6, "nul\x00inside", "plain"),
    (7, ",", '"'),
]
TEXT_COLUMNS = [
    ("id", "bigint", "bigint"),
    ("n", "int(11)", "integer"),
    ("s", "varchar(50)", "text"),
    ("l", "varchar(50)", "text"),
    ("t", "text", "text"),
]


def _awkward_source(db: Database, keyed: bool) -> None:
    key = "PRIMARY KEY" if keyed else ""
    mysql_exec(
        db,
        f"""CREATE TABLE awkward (id BIGINT NOT NULL {key}, n INT NOT NULL, s VARCHAR(50) NOT NULL,
           l VARCHAR(50) CHARACTER SET latin1 NULL, t TEXT NULL) CHARACTER SET utf8mb4""",
    )
    placeholders = ", ".join(["(%s, %s, %s, %s, %s)"] * len(AWKWARD))
    conn = pymysql.connect(
        host=db.host, port=db.port, user=db.user, password=db.password, database=db.name, charset="utf8mb4",
        autocommit=True,
    )  # fmt: skip
    with conn.cursor() as cur:
        params = [v for i, s, latin in AWKWARD for v in (i, -i, s, latin, None if i % 2 else s)]
        cur.execute(f"INSERT INTO awkward VALUES {placeholders}", params)
    conn.close()


def _awkward_mapping(keyed: bool) -> TableMapping:
    key = ("id",) if keyed else ()
    return table_mapping("awkward", TEXT_COLUMNS, key=key, row_estimate=7, not_null=("id", "n", "s"))


@pytest.mark.parametrize("keyed", [True, False], ids=["key-value-blocks", "keyless-whole-table"])
async def test_awkward_text_travels_as_csv_exactly(
    mariadb_db: Database, pg_db: Database, keyed: bool
) -> None:
    _awkward_source(mariadb_db, keyed)
    pg_exec(pg_db, "CREATE TABLE awkward (id bigint PRIMARY KEY, n int, s text NOT NULL, l text, t text)")
    mapping = _awkward_mapping(keyed)
    projection = build_projection(mapping, "mysql", "postgresql", None)
    source = await MySQLSource.open(mysql_endpoint(mariadb_db), projection)
    try:
        line = source.copy_line
    finally:
        await source.close()
    # The fast path is taken; only the latin1 column is converted on the server.
    assert line is not None and "CONVERT(`l` USING utf8mb4)" in line and "CONVERT(`s`" not in line

    job = CopyJob("csv", Endpoints(mysql_endpoint(mariadb_db), pg_endpoint(pg_db)), CopySpec(batch_size=3))
    results = await run_units(job, await plan_units([mapping], job.endpoints.source, job.copy))

    assert results.ok, results.failed
    expected = [
        (i, -i, s.replace("\x00", ""), latin, None if i % 2 else s.replace("\x00", ""))
        for i, s, latin in AWKWARD
    ]
    assert pg_rows(pg_db, "SELECT id, n, s, l, t FROM awkward ORDER BY id") == expected


async def test_dense_integer_keys_batch_by_value_and_sparse_ones_by_rows(
    mariadb_db: Database, pg_db: Database
) -> None:
    mysql_exec(
        mariadb_db,
        "CREATE TABLE dense (id INT PRIMARY KEY, v INT NOT NULL)",
        "SET SESSION max_recursive_iterations = 10000",
        "INSERT INTO dense WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 3000) "
        "SELECT i, i * 2 FROM s WHERE i % 10 <> 0",  # 2,700 rows, small gaps
        "CREATE TABLE sparse (id BIGINT PRIMARY KEY, v INT NOT NULL)",
        "INSERT INTO sparse WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 500) "
        "SELECT i * 1000000, i FROM s",
    )
    pg_exec(pg_db, "CREATE TABLE dense (id integer, v integer)", "CREATE TABLE sparse (id bigint, v integer)")
    ints = [("id", "int(11)", "integer"), ("v", "int(11)", "integer")]
    dense = table_mapping("dense", ints, row_estimate=2700)
    sparse = table_mapping("sparse", [("id", "bigint"), ("v", "int(11)", "integer")], row_estimate=500)
    endpoint = mysql_endpoint(mariadb_db)

    by_value = await MySQLSource.open(endpoint, build_projection(dense, "mysql", "postgresql", None))
    by_rows = await MySQLSource.open(endpoint, build_projection(sparse, "mysql", "postgresql", None))
    try:
        assert await by_value.boundary(None, None, 100) == (100,)  # keys 1..100: 90 rows
        assert await by_value.boundary((2950,), None, 100) is None  # the rest fits
        assert await by_rows.boundary(None, None, 100) == (100_000_000,)  # the 100th row's key
    finally:
        await by_value.close()
        await by_rows.close()

    spec = CopySpec(batch_size=100, split_threshold_rows=1000, parallelism=2)
    job = CopyJob("keys", Endpoints(endpoint, pg_endpoint(pg_db)), spec)
    units = await plan_units([dense, sparse], job.endpoints.source, job.copy)
    results = await run_units(job, units)

    assert results.ok, results.failed
    assert len([u for u in units if u.mapping.source_table == "dense"]) == 3
    dense_rows = pg_rows(pg_db, "SELECT count(*), count(DISTINCT id), sum(v) FROM dense")
    assert dense_rows == [(2700, 2700, 8_100_000)]
    assert pg_rows(pg_db, "SELECT count(*), sum(v) FROM sparse") == [(500, 125_250)]


@pytest.mark.parametrize("row_estimate", [3000, 1], ids=["key-value-blocks", "keyset-blocks"])
async def test_csv_blocks_stay_near_their_byte_budget_whatever_the_batch_size(
    mariadb_db: Database, pg_db: Database, monkeypatch: pytest.MonkeyPatch, row_estimate: int
) -> None:
    """asyncmy buffers whatever the server sends: a batch is read in blocks of bounded size, by
    key value when the key is dense (the estimate matches the span), by keyset otherwise."""
    monkeypatch.setattr(mysql_csv_blocks, "BLOCK_BYTES", 1 << 20)  # 1 MB blocks, against a 15 MB batch
    _wide_source(mariadb_db, rows=3000)
    pg_exec(pg_db, "CREATE TABLE wide (id integer, body text)")
    mapping = table_mapping("wide", WIDE_COLUMNS, row_estimate=row_estimate)
    endpoint = mysql_endpoint(mariadb_db)
    source = await MySQLSource.open(endpoint, build_projection(mapping, "mysql", "postgresql", None))
    try:
        sizes = [len(chunk) async for chunk in source.copy_csv_chunks(None, None)]
        assert source.steps.by_value is (row_estimate == 3000)
    finally:
        await source.close()
    assert sum(sizes) > 15_000_000 and len(sizes) >= 12
    assert max(sizes) <= 1.1 * (1 << 20)

    job = CopyJob("wide", Endpoints(endpoint, pg_endpoint(pg_db)), CopySpec(batch_size=100_000))
    assert (await run_units(job, await plan_units([mapping], job.endpoints.source, job.copy))).ok
    assert pg_rows(pg_db, WIDE_CHECK) == [(3000, 15_000_000, 26)]


async def test_a_block_cut_at_max_allowed_packet_is_read_again_narrower(
    mariadb_server: MariaDBServer, mariadb_db: Database, pg_db: Database
) -> None:
    """The server cuts a GROUP_CONCAT longer than max_allowed_packet and only warns."""
    _wide_source(mariadb_db, rows=600)
    pg_exec(pg_db, "CREATE TABLE wide (id integer, body text)")
    mapping = table_mapping("wide", WIDE_COLUMNS, row_estimate=600)
    endpoints = Endpoints(mysql_endpoint(mariadb_db), pg_endpoint(pg_db))
    job = CopyJob("cut", endpoints, CopySpec(batch_size=100_000))
    _set_max_allowed_packet(mariadb_server, 1 << 20)  # blocks grow to 2 MB: cut at 1 MB
    try:
        results = await run_units(job, await plan_units([mapping], job.endpoints.source, job.copy))
    finally:
        _set_max_allowed_packet(mariadb_server, 16 << 20)  # the server's default

    assert results.ok, results.failed
    assert pg_rows(pg_db, WIDE_CHECK) == [(600, 3_000_000, 26)]


WIDE_COLUMNS = [("id", "int(11)", "integer"), ("body", "mediumtext", "text")]
WIDE_CHECK = "SELECT count(*), sum(length(body)), count(DISTINCT body) FROM wide"


def _wide_source(db: Database, rows: int) -> None:
    mysql_exec(
        db,
        "SET SESSION max_recursive_iterations = 10000",
        "CREATE TABLE wide (id INT PRIMARY KEY, body MEDIUMTEXT NOT NULL)",
        f"INSERT INTO wide WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {rows}) "
        "SELECT i, REPEAT(CHAR(65 + i % 26), 5000) FROM s",
    )


def _set_max_allowed_packet(server: MariaDBServer, size: int) -> None:
    """A global setting (new connections read it): the admin sets it, the test restores it."""
    conn = server.admin()
    try:
        with conn.cursor() as cur:
            cur.execute(f"SET GLOBAL max_allowed_packet = {int(size)}")
    finally:
        conn.close()
