"""Chinook, PostgreSQL to PostgreSQL and MariaDB to PostgreSQL: every row arrives, checksums agree."""

from __future__ import annotations

from ferry.api.migration import CopySpec
from ferry.copy import CopyJob, Endpoints, plan_units, run_units, validate
from harness.databases import Database
from integration.copy.helpers import (
    mysql_endpoint,
    mysql_to_pg_mappings,
    pg_endpoint,
    pg_rows,
    pg_to_pg_mappings,
)

TABLES = 11


async def test_pg_to_pg_chinook_copies_every_row(chinook_pg: Database, chinook_pg_empty: Database) -> None:
    mappings = pg_to_pg_mappings(chinook_pg, chinook_pg_empty)
    assert len(mappings) == TABLES
    job = CopyJob(
        "chinook-pg",
        Endpoints(pg_endpoint(chinook_pg), pg_endpoint(chinook_pg_empty)),
        CopySpec(batch_size=500),
    )

    results = await run_units(job, await plan_units(mappings, job.endpoints.source, job.copy))

    assert results.ok, results.failed
    checks = await validate(job, mappings, checksum=True, chunk_rows=300)
    assert [c for c in checks if not c.ok] == []
    assert all(c.checksum_match for c in checks)
    independent = "SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) FROM public.{} t"
    for m in mappings:
        assert pg_rows(chinook_pg, independent.format(m.source_table)) == pg_rows(
            chinook_pg_empty, independent.format(m.target_table)
        ), m.source_table


async def test_mariadb_to_pg_chinook_checksums_agree(
    chinook_maria: Database, chinook_pg_empty: Database
) -> None:
    mappings = mysql_to_pg_mappings(chinook_maria, chinook_pg_empty)
    assert len(mappings) == TABLES
    job = CopyJob(
        "chinook-maria",
        Endpoints(mysql_endpoint(chinook_maria), pg_endpoint(chinook_pg_empty)),
        CopySpec(batch_size=700),
    )

    results = await run_units(job, await plan_units(mappings, job.endpoints.source, job.copy))

    assert results.ok, results.failed
    assert results.rows_copied == 15607  # Chinook's row count across its 11 tables
    checks = await validate(job, mappings, checksum=True, chunk_rows=500)
    assert [c for c in checks if not c.ok] == []
    assert all(c.checksum_match and c.ordered for c in checks)
