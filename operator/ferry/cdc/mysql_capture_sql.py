"""The statements of the binlog capture: server settings, privileges, binlog positions and files.

Each function takes an open PyMySQL connection and runs in a worker thread. MariaDB 10.5+
names REPLICATION CLIENT `BINLOG MONITOR` (the old name is an alias); MySQL 8.4 removed
`SHOW MASTER STATUS` for `SHOW BINARY LOG STATUS`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pymysql

from ferry.cdc.mysql_capture_values import SourceColumn

MySQLConnection = Any  # pymysql.connections.Connection (untyped)

ER_PARSE_ERROR = 1064
ER_SPECIFIC_ACCESS_DENIED = 1227
ER_ACCESS_DENIED = (1044, 1045, 1142, 1227)

VARIABLES = (
    "log_bin",
    "binlog_format",
    "binlog_row_image",
    "binlog_row_metadata",
    "server_id",
    "version",
    "gtid_binlog_pos",
    "gtid_executed",
    "expire_logs_days",
    "binlog_expire_logs_seconds",
)


@dataclass(frozen=True)
class BinlogFile:
    name: str
    size: int


def _rows(conn: MySQLConnection, sql: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return list(cur.fetchall())


def server_variables(conn: MySQLConnection) -> dict[str, str]:
    """The global values of the settings the capture depends on (absent ones are missing)."""
    marks = ", ".join(["%s"] * len(VARIABLES))
    rows = _rows(conn, f"SHOW GLOBAL VARIABLES WHERE Variable_name IN ({marks})", VARIABLES)
    return {str(name).lower(): str(value) for name, value, *_ in rows}


def global_privileges(conn: MySQLConnection) -> set[str]:
    """The current user's privileges on *.* ('REPLICATION SLAVE', 'BINLOG MONITOR' ...).
    information_schema, unlike SHOW GRANTS, never shows the password hash."""
    rows = _rows(conn, "SELECT PRIVILEGE_TYPE FROM information_schema.USER_PRIVILEGES")
    return {str(row[0]).upper() for row in rows}


def binlog_status(conn: MySQLConnection) -> tuple[str, int] | None:
    """The file and byte position the next transaction will be written at; None: binlog off."""
    try:
        rows = _rows(conn, "SHOW MASTER STATUS")
    except pymysql.err.ProgrammingError as exc:
        if exc.args[0] != ER_PARSE_ERROR:
            raise
        rows = _rows(conn, "SHOW BINARY LOG STATUS")
    if not rows:
        return None
    return str(rows[0][0]), int(rows[0][1])


def snapshot_status(conn: MySQLConnection) -> tuple[str, int] | None:
    """MariaDB's binlog position of a consistent snapshot: every transaction written to the binlog
    before it is committed in InnoDB, so visible to any read that starts afterwards. None where
    the server has no such status (MySQL) or the binlog is off."""
    with conn.cursor() as cur:
        cur.execute("START TRANSACTION WITH CONSISTENT SNAPSHOT")
        try:
            cur.execute("SHOW SESSION STATUS LIKE 'binlog_snapshot_%'")
            status = {str(name).lower(): str(value) for name, value in cur.fetchall()}
        finally:
            cur.execute("COMMIT")
    name = status.get("binlog_snapshot_file")
    position = status.get("binlog_snapshot_position")
    if not name or position is None:
        return None
    return name, int(position)


def binary_logs(conn: MySQLConnection) -> list[BinlogFile]:
    """The binlog files the server still has, oldest first."""
    return [BinlogFile(str(row[0]), int(row[1])) for row in _rows(conn, "SHOW BINARY LOGS")]


_COLUMNS = """
    SELECT COLUMN_NAME, LOWER(DATA_TYPE), COLUMN_TYPE, CHARACTER_SET_NAME, CHARACTER_OCTET_LENGTH,
           NUMERIC_PRECISION, NUMERIC_SCALE, DATETIME_PRECISION
    FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s
    ORDER BY ORDINAL_POSITION
"""


def _int(value: object) -> int | None:
    return None if value is None else int(str(value))


def table_columns(conn: MySQLConnection, schema: str, table: str) -> list[SourceColumn]:
    """Every column of the table in binlog order (ordinal position); [] when there is no such table."""
    return [
        SourceColumn(
            name=str(name),
            data_type=str(data_type),
            column_type=str(column_type),
            charset=None if charset is None else str(charset),
            octet_length=_int(octets),
            precision=_int(precision),
            scale=_int(scale),
            fsp=_int(fsp),
        )
        for name, data_type, column_type, charset, octets, precision, scale, fsp in _rows(
            conn, _COLUMNS, (schema, table)
        )
    ]


def current_database(conn: MySQLConnection) -> str:
    rows = _rows(conn, "SELECT DATABASE()")
    return str(rows[0][0]) if rows and rows[0][0] is not None else ""
