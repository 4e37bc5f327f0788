"""How the MariaDB/MySQL capture reaches the source: PyMySQL connections (with the connection's
TLS settings) and the errors that end a follow for good."""

from __future__ import annotations

from typing import Any

import pymysql

from ferry.cdc import mysql_capture_sql as sql
from ferry.db.engines import pymysql_connect_kwargs
from ferry.services.planning import Side


class BinlogPurged(Exception):
    """The binlog file the follower must resume from no longer exists on the source."""

    def __init__(self, file: str) -> None:
        super().__init__(
            f"binlog {file} was purged from the source (binlog retention or PURGE BINARY LOGS) before the "
            "follower read it; the migration must start again (raise binlog_expire_logs_seconds to keep "
            "binlogs for longer than a copy and its catch-up take)"
        )
        self.file = file


class BinlogOff(Exception):
    """The source writes no binlog: nothing to follow."""


def connection_settings(source: Side) -> dict[str, Any]:
    """PyMySQL keyword arguments for the source, with its TLS settings (`ferry.db.engines`)."""
    return pymysql_connect_kwargs(source.spec, source.credentials)


def connect(source: Side) -> sql.MySQLConnection:
    return pymysql.connect(**connection_settings(source), autocommit=True)
