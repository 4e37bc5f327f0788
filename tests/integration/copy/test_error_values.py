"""A row that fails on the target is named by table, column and key range, never by its value.

The engines quote the offending value in their errors; the unit's error (which becomes the
worker's status message, a Warning event and a log line) must not carry it.
"""

from __future__ import annotations

from ferry.api.migration import CopySpec
from ferry.copy import CopyJob, Endpoints, plan_units, run_units
from harness.databases import Database
from integration.copy.helpers import mysql_endpoint, mysql_exec, pg_endpoint, pg_exec, table_mapping

SECRET = "card-4111-1111-1111-1111"


async def test_a_postgresql_value_the_target_rejects_is_not_quoted(pg_db: Database, pg_db2: Database) -> None:
    pg_exec(pg_db, "CREATE TABLE items (id int PRIMARY KEY, card text)",
            f"INSERT INTO items VALUES (1, '7'), (2, '{SECRET}')")  # fmt: skip
    pg_exec(pg_db2, "CREATE TABLE items (id int PRIMARY KEY, card integer)")
    mapping = table_mapping("items", [("id", "integer"), ("card", "text", "integer")])
    job = CopyJob("values", Endpoints(pg_endpoint(pg_db), pg_endpoint(pg_db2)), CopySpec())
    units = await plan_units([mapping], job.endpoints.source, job.copy)
    (result,) = (await run_units(job, units)).results
    assert result.state == "failed" and result.error is not None
    assert SECRET not in result.error
    assert "integer" in result.error and "…" in result.error


async def test_a_mariadb_value_the_target_rejects_is_not_quoted(
    mariadb_db: Database, pg_db: Database
) -> None:
    mysql_exec(mariadb_db, "CREATE TABLE items (id int PRIMARY KEY, card varchar(40))",
               f"INSERT INTO items VALUES (1, '7'), (2, '{SECRET}')")  # fmt: skip
    pg_exec(pg_db, "CREATE TABLE items (id int PRIMARY KEY, card integer)")
    mapping = table_mapping("items", [("id", "int", "integer"), ("card", "varchar(40)", "integer")])
    job = CopyJob("maria", Endpoints(mysql_endpoint(mariadb_db), pg_endpoint(pg_db)), CopySpec())
    units = await plan_units([mapping], job.endpoints.source, job.copy)
    (result,) = (await run_units(job, units)).results
    assert result.state == "failed" and result.error is not None
    assert SECRET not in result.error
    assert "integer" in result.error and "…" in result.error
