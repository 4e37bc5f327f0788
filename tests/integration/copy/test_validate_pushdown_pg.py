"""PostgreSQL → PostgreSQL checksums computed by the servers (ferry.copy.validate_pushdown), on
real servers, with the column types as Ferry reflects them: after a real copy every range's
digests are equal, and a single changed value of each kind is found, including the changes a
type's own hash would call equal (case under a case-insensitive collation, -0 against 0, one
day against 24 hours), which the row hash takes as text instead."""

from __future__ import annotations

import pytest

from ferry.api.migration import CopySpec, MigrationSpec
from ferry.copy import CopyJob, plan_units, run_units, validate_pushdown
from ferry.copy.validate_ranges import plan_ranges, range_predicates
from ferry.schema.mapping import TableMapping
from ferry.services.endpoints import endpoints_for
from ferry.services.planning import source_mappings
from harness.databases import Database
from integration.cdc.helpers import side
from integration.copy.helpers import pg_exec

ROWS = 300
RANGE_ROWS = 100

COLLATION = "CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false)"
DDL = (
    "CREATE TABLE kinds (id bigint PRIMARY KEY, s smallint, flag boolean, amount numeric(12,2), n numeric, "
    "day date, at timestamp(3), tz timestamptz, clock time, u uuid, raw bytea, doc jsonb, plain json, "
    "name varchar(40), label text COLLATE ci, code char(4), ratio double precision, span interval, "
    "tags text[])"
)
FILL = (
    "INSERT INTO kinds SELECT i, (i % 100)::smallint, i % 2 = 0, i * 1.25, i / 7.0, date '2000-01-01' + i, "
    "timestamp '2020-01-01' + i * interval '1 minute', "
    "timestamptz '2020-01-01 00:00+00' + i * interval '1 hour', "
    "time '00:00' + i * interval '1 second', md5(i::text)::uuid, decode(lpad(to_hex(i), 4, '0'), 'hex'), "
    "jsonb_build_object('i', i, 'tag', 'a' || i), json_build_object('i', i), 'name-' || i, 'label-' || i, "
    "'c' || (i % 100), i * 0.5, i * interval '1 hour', ARRAY['t' || i, NULL] FROM generate_series(1, 300) i"
)
# (column changed, the change on the target at key 150): one per kind of column
CHANGES = (
    ("s", "s = s + 1"),
    ("flag", "flag = NOT flag"),
    ("amount", "amount = amount + 0.01"),
    ("n", "n = n + 1"),
    ("day", "day = day + 1"),
    ("at", "at = at + interval '1 millisecond'"),
    ("tz", "tz = tz + interval '1 microsecond'"),
    ("clock", "clock = clock + interval '1 second'"),
    ("u", "u = md5('other')::uuid"),
    ("raw", "raw = raw || '\\x00'::bytea"),
    ("doc", 'doc = doc || \'{"tag": "b"}\''),
    ("plain", "plain = '{\"i\": 151}'"),  # json has no hash function: hashed as its text
    ("name", "name = name || ' '"),
    ("label", "label = upper(label)"),  # equal under the collation, a different value
    ("code", "code = 'zz'"),
    ("ratio", "ratio = '-0'"),  # the source has 0 at key 150 (FILL's update): the hash calls them equal
    ("span", "span = interval '6 days 6 hours'"),  # the source has 150 hours: the hash calls them equal
    ("tags", "tags = ARRAY['t150']"),
)


async def _copied(uid: str, source: Database, target: Database) -> tuple[CopyJob, TableMapping]:
    """The one table of `source`, mapped as Ferry maps it, copied to `target`'s same table."""
    spec = MigrationSpec.model_validate(
        {"source": {"connectionRef": {"name": "s"}},
         "target": {"connectionRef": {"name": "t"}, "schema": "public"}, "schema": {"mode": "none"}}
    )  # fmt: skip
    (mapping,) = source_mappings(spec, side(source), side(target))
    job = CopyJob(uid, endpoints_for(side(source), side(target)), CopySpec(batch_size=100))
    assert validate_pushdown.eligible(job, mapping), [(c.source_type, c.target_type) for c in mapping.columns]
    assert (await run_units(job, await plan_units([mapping], job.endpoints.source, job.copy))).ok
    return job, mapping


@pytest.fixture
async def copied(pg_db: Database, pg_db2: Database) -> tuple[CopyJob, TableMapping]:
    for db in (pg_db, pg_db2):
        pg_exec(db, COLLATION, DDL)
    pg_exec(pg_db, FILL, "UPDATE kinds SET ratio = 0, span = interval '150 hours' WHERE id = 150")
    return await _copied("pushdown-pg", pg_db, pg_db2)


async def _digests(job: CopyJob, mapping: TableMapping) -> list[tuple[tuple[int, str], tuple[int, str]]]:
    ranges = await plan_ranges([mapping], job.endpoints.source, RANGE_ROWS)
    assert len(ranges) == 3
    return [await validate_pushdown.digests(job, mapping, range_predicates(job, r)) for r in ranges]


async def test_a_copied_table_digests_equal_and_every_kind_of_change_is_found(
    copied: tuple[CopyJob, TableMapping], pg_db2: Database
) -> None:
    job, mapping = copied
    clean = await _digests(job, mapping)
    assert [s for s, _ in clean] == [t for _, t in clean]
    assert [s[0] for s, _ in clean] == [100, 100, 100]
    sql = validate_pushdown.digest_sql(
        '"public"."kinds"', [(c.source, c.source_type) for c in mapping.columns], []
    )
    assert "hash_record_extended" in sql and '"label" COLLATE "C"' in sql and '"ratio"::text' in sql
    for column, change in CHANGES:
        pg_exec(pg_db2, "CREATE TABLE kept AS SELECT * FROM kinds WHERE id = 150",
                f"UPDATE kinds SET {change} WHERE id = 150")  # fmt: skip
        found = await _digests(job, mapping)
        assert found[0][0] == found[0][1] and found[2][0] == found[2][1], column  # other ranges unchanged
        assert found[1][0] != found[1][1], f"a change of {column} was not found"
        pg_exec(pg_db2, f"UPDATE kinds SET {column} = kept.{column} FROM kept WHERE kinds.id = kept.id",
                "DROP TABLE kept")  # fmt: skip
        assert await _digests(job, mapping) == clean, column


async def test_a_column_the_record_form_cannot_hash_leaves_the_table_to_the_text_form(
    pg_db: Database, pg_db2: Database
) -> None:
    # PostgreSQL's one-byte "char" reads like a text type but takes no collation: the servers
    # refuse the record form, and both sides hash this table's rows as text instead.
    for db in (pg_db, pg_db2):
        pg_exec(db, 'CREATE TABLE letters (id bigint PRIMARY KEY, c "char", name text)')
    pg_exec(pg_db, "INSERT INTO letters SELECT i, chr(65 + i % 26), 'n' || i FROM generate_series(1, 300) i")
    job, mapping = await _copied("pushdown-char", pg_db, pg_db2)
    clean = await _digests(job, mapping)
    types = [(c.source, c.source_type) for c in mapping.columns]
    assert [s for s, _ in clean] == [t for _, t in clean], types
    pg_exec(pg_db2, "UPDATE letters SET c = 'z' WHERE id = 150")
    found = await _digests(job, mapping)
    assert found[1][0] != found[1][1] and found[0] == clean[0] and found[2] == clean[2]
