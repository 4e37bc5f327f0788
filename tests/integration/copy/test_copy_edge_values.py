"""Composite keys, NULLs, unicode, bytes, numeric/float edges, JSON, timestamps: all arrive unchanged."""

from __future__ import annotations

from ferry.api.migration import CopySpec
from ferry.copy import CopyJob, Endpoints, plan_units, run_units, validate
from harness.databases import Database
from integration.copy.helpers import mysql_endpoint, mysql_exec, pg_endpoint, pg_exec, pg_rows, table_mapping

PG_EDGE_TABLE = """CREATE TABLE edge (
    a integer, b text, n numeric(30,10), f double precision, j jsonb, js json, ts timestamp(6),
    tz timestamptz, d date, bin bytea, arr integer[], iv interval, PRIMARY KEY (a, b))"""

# Every 7th row is all NULLs; texts carry tabs, newlines, backslashes, quotes and non-BMP characters.
PG_EDGE_ROWS = r"""INSERT INTO edge
SELECT i % 40, 'k-' || i || E'\t\\ ü€😀 "q" ''s''',
       CASE WHEN i % 7 = 0 THEN NULL
            ELSE (ARRAY[0, -0.0000000001, 99999999999999999999.9999999999, 1.5])[1 + i % 4] END,
       CASE WHEN i % 7 = 0 THEN NULL
            ELSE (ARRAY['Infinity', '-Infinity', 'NaN', '1e-300', '0.1'])[1 + i % 5]::float8 END,
       CASE WHEN i % 7 = 0 THEN NULL
            ELSE jsonb_build_object('i', i, 'nested', jsonb_build_array(1, 'x', null), 'u', 'é') END,
       CASE WHEN i % 7 = 0 THEN NULL ELSE ('{"b": 1,  "a": [' || i || ']}')::json END,
       CASE WHEN i % 7 = 0 THEN NULL
            ELSE (ARRAY['0001-01-01 00:00:00', '9999-12-31 23:59:59.999999',
                        '2024-02-29 12:00:00.5'])[1 + i % 3]::timestamp END,
       CASE WHEN i % 7 = 0 THEN NULL ELSE '2024-03-31 01:30:00+02'::timestamptz + i * interval '1 hour' END,
       CASE WHEN i % 7 = 0 THEN NULL ELSE DATE '2000-01-01' + i END,
       CASE WHEN i % 7 = 0 THEN NULL ELSE decode(lpad(to_hex(i), 8, '0') || '00ff5c0a', 'hex') END,
       CASE WHEN i % 7 = 0 THEN NULL ELSE ARRAY[i, NULL, -i] END,
       CASE WHEN i % 7 = 0 THEN NULL ELSE i * interval '1 minute 1.5 seconds' END
FROM generate_series(1, 1200) i"""

EDGE_COLUMNS = [
    ("a", "integer"), ("b", "text"), ("n", "numeric(30,10)"), ("f", "double precision"), ("j", "jsonb"),
    ("js", "json"), ("ts", "timestamp(6) without time zone"), ("tz", "timestamp with time zone"),
    ("d", "date"),
    ("bin", "bytea"), ("arr", "integer[]"), ("iv", "interval"),
]  # fmt: skip

SNAPSHOT = "SELECT md5(string_agg(e::text, '|' ORDER BY a, b)) FROM edge e"


async def test_pg_to_pg_edge_values_survive_text_pass_through(pg_db: Database, pg_db2: Database) -> None:
    pg_exec(pg_db, PG_EDGE_TABLE, PG_EDGE_ROWS)
    pg_exec(
        pg_db2, PG_EDGE_TABLE.replace(", PRIMARY KEY (a, b)", "")
    )  # no key on the target: duplicates would show
    mapping = table_mapping("edge", EDGE_COLUMNS, key=("a", "b"), row_estimate=1200)
    spec = CopySpec(batch_size=97, split_threshold_rows=1000, parallelism=2)
    job = CopyJob("edge", Endpoints(pg_endpoint(pg_db), pg_endpoint(pg_db2)), spec)

    units = await plan_units([mapping], job.endpoints.source, spec)
    results = await run_units(job, units)

    assert len(units) == 2 and results.ok, results.failed
    assert pg_rows(pg_db, SNAPSHOT) == pg_rows(pg_db2, SNAPSHOT)
    (check,) = await validate(job, [mapping], checksum=True, chunk_rows=100)
    assert check.ok and check.checksum_match and check.source_rows == check.target_rows == 1200


async def test_pg_to_pg_binary_pass_through_and_row_path_agree(pg_db: Database, pg_db2: Database) -> None:
    """Without the array and interval columns the binary fast path runs; with a castTo the row path does."""
    from ferry.api.migration import Transform

    scalar_columns = [c for c in EDGE_COLUMNS if c[0] not in ("arr", "iv")]
    pg_exec(pg_db, PG_EDGE_TABLE, PG_EDGE_ROWS)
    pg_exec(pg_db2, PG_EDGE_TABLE.replace(", PRIMARY KEY (a, b)", ""), "CREATE TABLE edge2 (LIKE edge)")
    fast = table_mapping("edge", scalar_columns, key=("a", "b"))
    cast = Transform(column="n", type="castTo", cast_to="numeric(30,10)")  # type: ignore[arg-type]
    slow = table_mapping("edge", scalar_columns, key=("a", "b"), target_table="edge2", transforms={"n": cast})
    job = CopyJob("paths", Endpoints(pg_endpoint(pg_db), pg_endpoint(pg_db2)), CopySpec(batch_size=250))

    results = await run_units(job, await plan_units([fast, slow], job.endpoints.source, job.copy))

    assert results.ok, results.failed
    cols = ", ".join(c for c, _ in scalar_columns)
    snapshot = f"SELECT md5(string_agg(({cols})::text, '|' ORDER BY a, b)) FROM {{}}"
    assert pg_rows(pg_db, snapshot.format("edge")) == pg_rows(pg_db2, snapshot.format("edge"))
    assert pg_rows(pg_db, snapshot.format("edge")) == pg_rows(pg_db2, snapshot.format("edge2"))
    checks = await validate(job, [fast, slow], checksum=True)
    assert all(c.ok and c.checksum_match for c in checks)


MARIA_EDGE = [
    """CREATE TABLE edge (a INT, b VARCHAR(60), n DECIMAL(30,10), f DOUBLE, j JSON, ts DATETIME(6), d DATE,
       bin BLOB, flag TINYINT(1), t TIME, u VARCHAR(100), PRIMARY KEY (a, b)) CHARACTER SET utf8mb4""",
    """INSERT INTO edge
       WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 900)
       SELECT i % 30, CONCAT('k-', i, '\\t\\\\ ü€😀'),
              IF(i % 7 = 0, NULL, ELT(1 + i % 4, 0, -0.0000000001, 99999999999999999999.9999999999, 1.5)),
              IF(i % 7 = 0, NULL, ELT(1 + i % 3, 1e-300, -2.5, 0.1)),
              IF(i % 7 = 0, NULL, JSON_OBJECT('i', i, 'nested', JSON_ARRAY(1, 'x', NULL), 'u', 'é')),
              IF(i % 7 = 0, NULL, ELT(1 + i % 3, '1000-01-01 00:00:00', '9999-12-31 23:59:59.999999',
                                       '2024-02-29 12:00:00.5')),
              IF(i % 7 = 0, NULL, DATE_ADD('2000-01-01', INTERVAL i DAY)),
              IF(i % 7 = 0, NULL, CONCAT(UNHEX(LPAD(HEX(i), 8, '0')), UNHEX('00ff5c0a'))),
              IF(i % 7 = 0, NULL, i % 2),
              IF(i % 7 = 0, NULL, SEC_TO_TIME(i * 61)),
              IF(i % 7 = 0, NULL, CONCAT('naïve ', i, ' Ωμέγα'))
       FROM s""",
]
PG_EDGE_TARGET = """CREATE TABLE edge (a integer, b varchar(60), n numeric(30,10), f double precision,
    j jsonb,    ts timestamp(6), d date, bin bytea, flag boolean, t time, u varchar(100))"""
MARIA_TO_PG = [
    ("a", "int(11)", "integer"), ("b", "varchar(60)", "varchar(60)"),
    ("n", "decimal(30,10)", "numeric(30,10)"),
    ("f", "double", "double precision"), ("j", "longtext", "jsonb"), ("ts", "datetime(6)", "timestamp(6)"),
    ("d", "date", "date"), ("bin", "blob", "bytea"), ("flag", "tinyint(1)", "boolean"), ("t", "time", "time"),
    ("u", "varchar(100)", "varchar(100)"),
]  # fmt: skip


async def test_mariadb_to_pg_edge_values_checksums_agree(mariadb_db: Database, pg_db: Database) -> None:
    mysql_exec(mariadb_db, *MARIA_EDGE)
    pg_exec(pg_db, PG_EDGE_TARGET)
    mapping = table_mapping("edge", MARIA_TO_PG, key=("a", "b"), row_estimate=900)
    job = CopyJob(
        "maria-edge", Endpoints(mysql_endpoint(mariadb_db), pg_endpoint(pg_db)), CopySpec(batch_size=111)
    )

    results = await run_units(job, await plan_units([mapping], job.endpoints.source, job.copy))

    assert results.ok, results.failed
    (check,) = await validate(job, [mapping], checksum=True, chunk_rows=100)
    assert check.ok and check.checksum_match and check.ordered and check.target_rows == 900
    assert pg_rows(pg_db, "SELECT count(*) FROM edge WHERE n IS NULL AND f IS NULL AND bin IS NULL") == [
        (128,)
    ]
    assert pg_rows(
        pg_db, "SELECT b, encode(bin, 'hex'), flag, j->>'u' FROM edge WHERE a = 1 AND b LIKE 'k-1\t%'"
    ) == [("k-1\t\\ ü€😀", "0000000100ff5c0a", True, "é")]


async def test_a_changed_checksum_names_the_first_differing_range(pg_db: Database, pg_db2: Database) -> None:
    pg_exec(pg_db, PG_EDGE_TABLE, PG_EDGE_ROWS)
    pg_exec(pg_db2, PG_EDGE_TABLE)
    mapping = table_mapping("edge", EDGE_COLUMNS, key=("a", "b"))
    job = CopyJob("diff", Endpoints(pg_endpoint(pg_db), pg_endpoint(pg_db2)), CopySpec(batch_size=500))
    assert (await run_units(job, await plan_units([mapping], job.endpoints.source, job.copy))).ok
    pg_exec(pg_db2, "UPDATE edge SET n = n + 1 WHERE a = 20 AND b = 'k-500' || E'\\t\\\\ ü€😀 \"q\" ''s'''")

    (check,) = await validate(job, [mapping], checksum=True, chunk_rows=100)

    assert check.source_rows == check.target_rows and check.checksum_match is False
    # Chunks of 100 rows in (a, b) order: the changed row (20, 'k-500…') is in the chunk from (20, 'k-100…').
    assert check.first_difference is not None and check.first_difference.startswith("keys (20, 'k-100")
