"""Change capture from MariaDB/MySQL: the row-based binlog, read as a replica would.

Nothing is created on the server. The capture's start position is the binlog file and byte
position of a consistent snapshot taken before the copy reads (`start`); the apply side stores
it on the target, so calling `start` again is the caller's business (it returns a later
position, which would skip what happened between). The follower connects with the replication
protocol (mysql-replication, `ferry.cdc.mysql_capture_stream`) under a server_id of its own,
derived from the Migration's UID, and resumes from the position the target has applied.

The server keeps binlog files as long as its retention says (`binlog_expire_logs_seconds`,
`expire_logs_days`, or a DBA's `PURGE BINARY LOGS`), not as long as a follower needs them:
when the file to resume from is gone, the follower stops with `BinlogPurged` and the
migration must start again. `drop` has nothing to remove.

Privileges: REPLICATION SLAVE (the stream) and REPLICATION CLIENT, called BINLOG MONITOR on
MariaDB 10.5+ (binlog positions, the list of binlog files).
"""

from __future__ import annotations

import asyncio
import zlib
from collections.abc import Mapping, Sequence

import pymysql

from ferry.cdc import mysql_capture_sql as sql
from ferry.cdc.changes import (
    Position,
    SourceSchemaChanged,
)
from ferry.cdc.mysql_capture_stream import BinlogPosition, FollowedTable, StreamConfig
from ferry.cdc.mysql_capture_values import SourceColumn
from ferry.cdc.mysql_change_source import MySQLChangeSource
from ferry.cdc.mysql_connection import BinlogOff, connect, connection_settings
from ferry.copy.sessions import SessionLedger
from ferry.schema.catalog_mysql import normalize_type
from ferry.schema.mapping import TableMapping
from ferry.services.planning import Side

# server_ids of the followers: above those DBAs hand out to replicas (small numbers), below 2^31.
SERVER_ID_BASE = 1 << 30
SERVER_ID_SPAN = 1 << 30


def server_id_for(migration_uid: str, taken: int) -> int:
    """The server_id a Migration's follower reads the binlog under: stable per Migration (so a
    follower restarted while the old one still hangs replaces it on the server) and unlike the
    source's own id; 1 and the small ids replicas usually get are never used."""
    chosen = SERVER_ID_BASE + zlib.crc32(migration_uid.encode()) % SERVER_ID_SPAN
    return chosen + 1 if chosen == taken else chosen


def _database(source: Side, mapping: TableMapping) -> str:
    return mapping.source_schema or source.spec.database


# -- check --------------------------------------------------------------------------------------


def source_problems(
    variables: Mapping[str, str],
    privileges: set[str],
    status_visible: bool,
    user: str,
    mappings: Sequence[TableMapping],
) -> list[str]:
    """What keeps a source with these settings from being followed (pure: unit-tested)."""
    problems = []
    if variables.get("log_bin", "OFF").upper() not in ("ON", "1"):
        problems.append(
            "binary logging is off on the source: a DBA must start the server with log_bin (log-bin in "
            "[mysqld] of the server configuration), binlog_format=ROW and a server_id, and restart it; "
            "binary logging cannot be turned on while the server runs"
        )
    else:
        fmt = variables.get("binlog_format", "").upper()
        if fmt != "ROW":
            problems.append(
                f"binlog_format is {fmt or 'unknown'} on the source, online migrations need ROW: a DBA "
                "sets binlog_format=ROW in [mysqld] of the server configuration and restarts the server "
                "(SET GLOBAL binlog_format = 'ROW' changes only sessions opened afterwards: every "
                "application connection open before it would go on writing statements, so they must all "
                "reconnect first)"
            )
        image = variables.get("binlog_row_image", "").upper()
        if image != "FULL":
            problems.append(
                f"binlog_row_image is {image or 'unknown'} on the source, online migrations need FULL "
                "(every column of the row before and after each change): a DBA sets binlog_row_image=FULL "
                "in [mysqld] and restarts the server, or sets it globally and has every application reconnect"
            )
        if variables.get("binlog_transaction_compression", "OFF").upper() in ("ON", "1"):
            problems.append(
                "binlog_transaction_compression is ON on the source: the binlog reader cannot read "
                "compressed transactions; a DBA sets binlog_transaction_compression=OFF"
            )
    missing = []
    if "REPLICATION SLAVE" not in privileges:
        missing.append("REPLICATION SLAVE")
    if not status_visible:
        missing.append("REPLICATION CLIENT (BINLOG MONITOR on MariaDB)")
    if missing:
        problems.append(
            f"the source user {user} lacks {' and '.join(missing)}, which reading the binlog needs: "
            f"GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO {user}"
        )
    for mapping in mappings:
        if not mapping.key:
            problems.append(
                f"table {mapping.qualified_source} has no primary key and no unique key of NOT NULL columns: "
                "the follower finds each changed row by its key; add one, or leave the table out of the "
                "online migration"
            )
        if mapping.where:
            problems.append(
                f"table {mapping.qualified_source} is copied with a row filter (where): the binlog carries "
                "every row's changes and cannot be filtered alike; remove the filter or migrate offline"
            )
    return problems


def _can_show_status(conn: sql.MySQLConnection) -> bool:
    try:
        sql.binlog_status(conn)
    except pymysql.err.OperationalError as exc:
        if exc.args[0] in sql.ER_ACCESS_DENIED:
            return False
        raise
    return True


def _current_user(conn: sql.MySQLConnection) -> str:
    with conn.cursor() as cur:
        cur.execute("SELECT CURRENT_USER()")
        row = cur.fetchone()
    name, _, host = str(row[0]).rpartition("@")
    return f"'{name}'@'{host}'"


def check_source(source: Side, mappings: Sequence[TableMapping]) -> list[str]:
    """What keeps this source from being followed: each a sentence naming the fix. [] when ready."""
    conn = connect(source)
    try:
        variables = sql.server_variables(conn)
        return source_problems(
            variables, sql.global_privileges(conn), _can_show_status(conn), _current_user(conn), mappings
        )
    finally:
        conn.close()


# -- positions ----------------------------------------------------------------------------------


def _position_now(conn: sql.MySQLConnection) -> BinlogPosition:
    """MariaDB: the position of a consistent snapshot, so every transaction before it is visible
    to the copy's reads that follow (a transaction is written to the binlog just before InnoDB
    commits it). MySQL has no such status: the binlog position as the server reports it."""
    found = sql.snapshot_status(conn) or sql.binlog_status(conn)
    if found is None:
        raise BinlogOff("the source writes no binlog (log_bin is off); online migrations need one")
    return BinlogPosition(*found)


def start(source: Side, mappings: Sequence[TableMapping], migration_uid: str) -> Position:
    """The capture's start position, to take before the copy reads anything. Nothing is created
    on the server: a second call returns a later position, so the caller keeps the first (the
    apply side stores it on the target)."""
    del mappings, migration_uid  # the binlog holds every table; nothing is named per Migration
    conn = connect(source)
    try:
        return _position_now(conn).position()
    finally:
        conn.close()


def drop(source: Side, migration_uid: str) -> str:
    """Nothing is held on the server (no slot): the binlog is kept or purged by the source's own
    retention (binlog_expire_logs_seconds / expire_logs_days), whoever reads it."""
    del source, migration_uid
    return ""


def current_position(source: Side) -> Position:
    conn = connect(source)
    try:
        return _position_now(conn).position()
    finally:
        conn.close()


def _plan_difference(mapping: TableMapping, columns: Sequence[SourceColumn]) -> str | None:
    """How the table differs from what the plan saw; None when every mapped column is as planned."""
    if not columns:
        return "the table no longer exists"
    by_name = {c.name: c for c in columns}
    for planned in mapping.columns:
        found = by_name.get(planned.source)
        if found is None:
            return f"column {planned.source} no longer exists"
        now = normalize_type(found.column_type)
        if planned.source_type == "json" and found.data_type in ("json", "longtext"):
            continue  # MariaDB's JSON is LONGTEXT with a json_valid check
        if now.lower() != planned.source_type.lower():
            return f"column {planned.source} is {now} now, the plan has {planned.source_type}"
    return None


def _followed_tables(
    conn: sql.MySQLConnection, source: Side, mappings: Sequence[TableMapping]
) -> tuple[dict[tuple[str, str], FollowedTable], SourceSchemaChanged | None]:
    tables: dict[tuple[str, str], FollowedTable] = {}
    pending = None
    for mapping in mappings:
        database = _database(source, mapping)
        columns = sql.table_columns(conn, database, mapping.source_table)
        difference = _plan_difference(mapping, columns)
        if difference is not None and pending is None:
            pending = SourceSchemaChanged(mapping.qualified_source, difference)
        key = (mapping.source_schema, mapping.source_table)
        tables[(database, mapping.source_table)] = FollowedTable(
            key, mapping.qualified_source, tuple(columns)
        )
    return tables, pending


def _prepare(
    source: Side, mappings: Sequence[TableMapping], migration_uid: str
) -> tuple[StreamConfig, dict[str, str], SourceSchemaChanged | None]:
    conn = connect(source)
    try:
        variables = sql.server_variables(conn)
        sql.binary_logs(conn)  # fails now, not in the stream, without the privilege or binlog
        tables, pending = _followed_tables(conn, source, mappings)
    finally:
        conn.close()
    settings = connection_settings(source)
    settings.pop("database", None)  # the library's own connection reads information_schema
    taken = int(variables.get("server_id", "0") or 0)
    config = StreamConfig(
        connection=settings,
        server_id=server_id_for(migration_uid, taken),
        tables=tables,
        mariadb="mariadb" in variables.get("version", "").lower(),
    )
    return config, variables, pending


async def open_source(
    source: Side,
    mappings: Sequence[TableMapping],
    migration_uid: str,
    start: Position,
    sessions: SessionLedger | None = None,
) -> MySQLChangeSource:
    """The stream of changes after `start` (the capture's start position, stored on the target).

    Reading begins at the first `read`: from the applied position it is given when a
    transaction ends there, else from `start`. That is also when a purged binlog file is found
    (`BinlogPurged`): checking `start`'s file here would refuse a follower that has long read
    past it once retention removed it. A followed table whose columns differ from the plan's
    is reported by the first `read` (SourceSchemaChanged)."""
    config, variables, pending = await asyncio.to_thread(_prepare, source, mappings, migration_uid)
    return MySQLChangeSource(source, config, start, variables, pending, sessions)
