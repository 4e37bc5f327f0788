"""`ferry run` of the Chinook SQLite file into MariaDB (SQLite → MySQL/MariaDB type rules).

The schema comes from the SQLite affinities (INTEGER PRIMARY KEY → AUTO_INCREMENT, NVARCHAR(n)
→ varchar(n), NUMERIC(10,2) → decimal(10,2), DATETIME → datetime(6)), the rows arrive with
checksums equal, and the application's next INSERT continues after the copied ids.
"""

from __future__ import annotations

import shutil
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest

from conftest import DATASETS
from ferry.cli.main import main
from harness.databases import Database
from integration.copy.helpers import mysql_exec, mysql_rows

pytestmark = pytest.mark.integration

CHINOOK_ROWS = 15607


def _bundle(path: Path, target: Database) -> str:
    return textwrap.dedent(f"""\
        apiVersion: v1
        kind: Secret
        metadata: {{name: dst-creds}}
        stringData: {{username: {target.user}, password: {target.password}}}
        ---
        apiVersion: ferry.dev/v1alpha1
        kind: DatabaseConnection
        metadata: {{name: file}}
        spec: {{engine: sqlite, database: "{path}"}}
        ---
        apiVersion: ferry.dev/v1alpha1
        kind: DatabaseConnection
        metadata: {{name: maria}}
        spec: {{engine: mariadb, host: {target.host}, port: {target.port}, database: {target.name},
               credentialsSecretRef: {{name: dst-creds}}}}
        ---
        apiVersion: ferry.dev/v1alpha1
        kind: Migration
        metadata: {{name: chinook}}
        spec:
          source: {{connectionRef: {{name: file}}}}
          target: {{connectionRef: {{name: maria}}}}
          schema: {{mode: create}}
          copy: {{batchSize: 1000, parallelism: 2}}
          validation: {{rowCount: true, checksum: true}}
        """)


def test_chinook_sqlite_arrives_in_mariadb_with_checksums_equal_and_ids_continuing(
    mariadb_db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "chinook.sqlite"
    shutil.copy(DATASETS / "chinook" / "Chinook_Sqlite.sqlite", source)
    bundle = tmp_path / "bundle.yaml"
    bundle.write_text(_bundle(source, mariadb_db))

    assert main(["run", "-f", str(bundle), "--secrets-from-env", "--no-progress"]) == 0, capsys.readouterr()
    out = capsys.readouterr().out
    # Every table's checksum compared the rows as the target holds them (validation is on).
    assert f"{CHINOOK_ROWS:,} rows" in out and "checksum ok" in out and "MISMATCH" not in out, out

    columns = dict(
        mysql_rows(
            mariadb_db,
            "SELECT concat(table_name, '.', column_name), column_type FROM information_schema.columns "
            f"WHERE table_schema = '{mariadb_db.name}' AND table_name IN ('Invoice', 'Track')",
        )
    )
    assert columns["Invoice.InvoiceDate"] == "datetime(6)"
    assert columns["Invoice.Total"] == "decimal(10,2)"
    assert columns["Track.Name"] == "varchar(200)"
    keys = mysql_rows(
        mariadb_db,
        "SELECT constraint_type, count(*) FROM information_schema.table_constraints "
        f"WHERE table_schema = '{mariadb_db.name}' AND table_name NOT LIKE '\\_ferry%' "
        "AND constraint_type IN ('PRIMARY KEY', 'FOREIGN KEY') GROUP BY constraint_type ORDER BY 1",
    )
    assert keys == [("FOREIGN KEY", 11), ("PRIMARY KEY", 11)]
    assert mysql_rows(mariadb_db, "SELECT sum(Total) FROM Invoice") == [(Decimal("2328.60"),)]

    # INTEGER PRIMARY KEY (the rowid) is AUTO_INCREMENT, continuing after the copied ids.
    mysql_exec(mariadb_db, "INSERT INTO Artist (Name) VALUES ('new')")
    assert mysql_rows(mariadb_db, "SELECT max(ArtistId) FROM Artist") == [(276,)]
    mysql_exec(mariadb_db, "INSERT INTO Genre (Name) VALUES ('new')")
    assert mysql_rows(mariadb_db, "SELECT max(GenreId) FROM Genre") == [(26,)]
