"""A validation Job's pods on real servers (MariaDB → PostgreSQL): each plans the key ranges alone
and stores its share on the target; the operator's reading of the stored results is a verdict
only when every pod took its share of the same plan."""

from __future__ import annotations

import asyncio

import pytest

from ferry.api.migration import MigrationSpec
from ferry.db.credentials import EnvSecretSource
from ferry.services.copy_driver import copy_share
from ferry.services.planning import Side, plan_migration
from ferry.services.target_load import prepare_target
from ferry.services.validation import IncompleteValidation, read_validation, validate_share
from harness.databases import Database
from integration.copy.helpers import mysql_exec, side

pytestmark = pytest.mark.integration

ROWS = 3000
UID = "shares"


def _copied(source_db: Database, target_db: Database) -> tuple[MigrationSpec, Side, Side]:
    # Rows of ~8 KB: ranges of about 8 MB hold ~1,000 keys, three of them.
    mysql_exec(source_db, "SET SESSION max_recursive_iterations = 100000",
               "CREATE TABLE t (id BIGINT PRIMARY KEY, v TEXT)",
               "INSERT INTO t WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s "
               f"WHERE i < {ROWS}) SELECT i, REPEAT('v', 8000) FROM s")  # fmt: skip
    spec = MigrationSpec.model_validate({
        "source": {"connectionRef": {"name": "src"}},
        "target": {"connectionRef": {"name": "dst"}, "schema": "public"},
        "schema": {"mode": "create"},
        "validation": {"rowCount": True, "checksum": True},
    })  # fmt: skip
    source, target = side(source_db), side(target_db)
    planned = plan_migration(spec, source, target)
    prepare_target(target, UID, planned, truncate=False)

    async def copy() -> None:
        share = await copy_share(spec, source, target, migration_uid=UID, secrets=EnvSecretSource(),
                                 mappings=planned.mappings, index=0, count=1)  # fmt: skip
        assert (await share.run()).ok

    asyncio.run(copy())
    return spec, source, target


def _pod(spec: MigrationSpec, source: Side, target: Side, index: int) -> tuple[int, int]:
    return validate_share(spec, source, target, migration_uid=UID, run=1, index=index, count=2,
                          secrets=EnvSecretSource())  # fmt: skip


def test_two_pods_of_the_same_plan_give_the_verdict(mariadb_db: Database, pg_db: Database) -> None:
    spec, source, target = _copied(mariadb_db, pg_db)
    assert [_pod(spec, source, target, i) for i in (0, 1)] == [(2, 2), (1, 1)]
    report = read_validation(spec, source, target, migration_uid=UID, run=1)
    assert report.ok and report.ranges == 3 and report.rows_compared == ROWS


def test_pods_that_planned_different_ranges_are_no_verdict(mariadb_db: Database, pg_db: Database) -> None:
    """Rows written to the source between two pods' plans move the key's MAX: the second pod's
    ranges are cut elsewhere, and the two shares, although each stored whole, do not cover the
    table. The operator says so instead of reporting on what the pods happened to compare."""
    spec, source, target = _copied(mariadb_db, pg_db)
    assert _pod(spec, source, target, 0) == (2, 2)
    mysql_exec(mariadb_db, f"INSERT INTO t VALUES ({ROWS + 5000}, 'late')")
    assert _pod(spec, source, target, 1) == (4, 4)  # of eight ranges now
    with pytest.raises(IncompleteValidation, match="planned different key ranges"):
        read_validation(spec, source, target, migration_uid=UID, run=1)
