"""The same orders/events rows in MariaDB: streamed from the PostgreSQL dataset as CSV, loaded with LOAD DATA.

Loaded independently of Ferry (so a Ferry bug cannot make its own input): psql `COPY … TO STDOUT
(FORMAT csv)` writes into a named pipe that the mariadb client reads with `LOAD DATA LOCAL
INFILE`. Timestamps travel as UTC text; MariaDB stores them in DATETIME(6) (naive UTC, how Ferry
and pgloader read them).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

from bench.servers import Servers
from harness.databases import SUPERUSER_PASSWORD

SCHEMA = {
    "orders": (
        "CREATE TABLE orders (id BIGINT NOT NULL PRIMARY KEY, customer_id INT NOT NULL, "
        "status VARCHAR(16) NOT NULL, amount DECIMAL(12,2) NOT NULL, created_at DATETIME(6) NOT NULL, "
        "note TEXT, payload JSON) ENGINE=InnoDB",
        "SELECT id, customer_id, status, amount, to_char(created_at AT TIME ZONE 'UTC', "
        "'YYYY-MM-DD HH24:MI:SS.US'), note, payload FROM orders",
    ),
    "events": (
        "CREATE TABLE events (id BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY, ts DATETIME(6) NOT NULL, "
        "kind SMALLINT NOT NULL, value DOUBLE) ENGINE=InnoDB",
        "SELECT id, to_char(ts AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US'), kind, value FROM events",
    ),
}


def _mariadb(servers: Servers, database: str | None, sql: str) -> None:
    assert servers.maria is not None
    argv = ["mariadb", "--local-infile=1", "-h", servers.maria.host, "-P", str(servers.maria.port),
            "-u", servers.maria.admin_user, *([database] if database else []), "-e", sql]  # fmt: skip
    env = {**os.environ, "MYSQL_PWD": SUPERUSER_PASSWORD}
    subprocess.run(argv, check=True, env=env)


def load_mariadb_dataset(servers: Servers, pg_db: str, maria_db: str) -> None:
    _mariadb(servers, None, f"DROP DATABASE IF EXISTS `{maria_db}`; CREATE DATABASE `{maria_db}`")
    with tempfile.TemporaryDirectory() as tmp:
        for table, (ddl, select) in SCHEMA.items():
            _mariadb(servers, maria_db, ddl)
            fifo = Path(tmp) / f"{table}.csv"
            os.mkfifo(fifo)
            copy = subprocess.Popen(
                ["psql", "-X", "-q", "-d", servers.pg_uri(pg_db), "-c",
                 f"COPY ({select}) TO STDOUT (FORMAT csv, NULL 'NULL')", "-o", str(fifo)],
            )  # fmt: skip
            _mariadb(
                servers,
                maria_db,
                f"SET unique_checks = 0; LOAD DATA LOCAL INFILE '{fifo}' INTO TABLE {table} "
                "FIELDS TERMINATED BY ',' OPTIONALLY ENCLOSED BY '\"' ESCAPED BY '' "
                "LINES TERMINATED BY '\\n'",
            )
            if copy.wait() != 0:
                raise RuntimeError(f"streaming {table} out of PostgreSQL failed")
        _mariadb(servers, maria_db, "ANALYZE TABLE orders, events")
