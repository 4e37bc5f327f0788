"""The capture's lifecycle as the operator drives it (ferry.cdc.lifecycle.CdcCaptureOps), on a
real MariaDB source and PostgreSQL target."""

from __future__ import annotations

from ferry.cdc import bookkeeping
from ferry.cdc.lifecycle import CdcCaptureOps
from harness.databases import Database, MariaDBServer
from integration.cdc.helpers import side
from integration.cdc.mysql_helpers import grant_replication, mappings, run

UID = "0e7f4a52-93c1-4b8e-a0d6-2b9c61f5d4a7"


def test_a_binlog_capture_opened_again_names_the_start_recorded_first(
    mariadb_server: MariaDBServer, mariadb_db: Database, pg_db: Database
) -> None:
    """The operator killed after opening the capture opens it again on restart: the binlog has
    moved on, but the follower reads from the start recorded on the target, so that is the
    position status.replication.startPosition and the CaptureStarted event must name."""
    grant_replication(mariadb_server, mariadb_db)
    run(mariadb_db, "CREATE TABLE t (id int PRIMARY KEY)")
    source, target, ops = side(mariadb_db), side(pg_db), CdcCaptureOps()

    first = ops.start(source, target, mappings(mariadb_db, "t"), UID)
    run(mariadb_db, "INSERT INTO t VALUES (1)", "UPDATE t SET id = 2", "DELETE FROM t")
    again = ops.start(source, target, mappings(mariadb_db, "t"), UID)

    record = bookkeeping.read(target, UID)
    assert record is not None and str(record.start) == first
    assert again == first, f"opened again at {again}, but the follow starts at {first}"
