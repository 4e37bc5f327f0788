"""The PostgreSQL capture of one Migration: a publication of its tables and a logical slot.

`ferry.cdc.capture` dispatches here. Both objects are named `capture_name(migration_uid)`, so
every call is idempotent: a retry after a crash finds what the first try made.

- `check_source`: what keeps the source from being followed (`ferry.cdc.pg_capture_checks`).
- `start`: the publication, then the slot (in that order: pgoutput reads the publication as
  of each decoded change, so it must exist before the first one). Right before the slot, the
  tables' published columns are recorded as the publication's comment: the reader compares
  every Relation message with them, so a column added after the start is found even by a
  reader started after the change. Creating a logical slot waits until every transaction
  running on the server has ended, its caller's too, so it runs in autocommit, with a statement
  timeout that turns a long wait into an error naming the cause. The start position P0 is the
  slot's `confirmed_flush_lsn`: every transaction committed after it comes out of the slot,
  every one before it is visible to any read that starts later.
- `drop`: the slot, then the publication. A slot in use by a backend (a follower in the middle
  of a peek) cannot be dropped: drop waits `DROP_WAIT_SECONDS` for it to be released, then
  terminates that backend (a follower's peek is short, and a drop comes at cutover, rollback
  or delete, when no follower should run any more).
- `open_source`: a `PgChangeSource` (`ferry.cdc.pg_change_source`) on its own connection.
- `current_position`, `slot_health`: for cutover and the operator's "slot holds back WAL" check.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Final

import psycopg
from psycopg import errors, sql
from psycopg.rows import dict_row

from ferry.cdc import pg_capture_checks
from ferry.cdc import pg_capture_sql as q
from ferry.cdc.changes import AppliedPosition, Position, SourceSchemaChanged
from ferry.cdc.names import capture_name
from ferry.cdc.pg_capture_checks import TableFacts, table_facts
from ferry.cdc.pg_change_source import PgChangeSource
from ferry.cdc.pg_transactions import CatalogColumn, FollowedTable, TransactionAssembler, position
from ferry.cdc.pgoutput import parse_lsn
from ferry.copy.sessions import SessionLedger
from ferry.db.engines import psycopg_connect_params
from ferry.schema.mapping import TableMapping
from ferry.services.planning import Side

SLOT_CREATE_TIMEOUT_SECONDS: Final = 300
DROP_WAIT_SECONDS: Final = 5.0


class CaptureError(Exception):
    """The capture cannot be started or opened as it is; the message names what to do."""


@dataclass(frozen=True)
class SlotHealth:
    """How much WAL the slot holds back. `wal_status`: reserved | extended | unreserved | lost
    (lost: the WAL it needs is gone and the capture cannot continue)."""

    wal_status: str
    safe_wal_size: int | None  # bytes left before max_slot_wal_keep_size removes WAL it needs
    retained_bytes: int | None  # WAL kept for it: current LSN minus its restart LSN
    active: bool


@contextmanager
def connect(source: Side) -> Iterator[psycopg.Connection[Any]]:
    """An autocommit connection to the source, values in UTF-8 (pgoutput converts to it)."""
    with psycopg_connect_params(source.spec, source.credentials) as params:
        conn = psycopg.connect(**params, autocommit=True, client_encoding="UTF8")
    try:
        yield conn
    finally:
        conn.close()


async def connect_async(source: Side) -> psycopg.AsyncConnection[Any]:
    with psycopg_connect_params(source.spec, source.credentials) as params:
        return await psycopg.AsyncConnection.connect(**params, autocommit=True, client_encoding="UTF8")


def check_source(
    source: Side, mappings: Sequence[TableMapping], migration_uid: str | None = None
) -> list[str]:
    """What keeps the source from being followed: each a sentence naming the fix. [] when ready."""
    with connect(source) as conn:
        return pg_capture_checks.check_source(conn, mappings, migration_uid)


def start(source: Side, mappings: Sequence[TableMapping], migration_uid: str) -> Position:
    """Create the publication and the slot unless they exist; returns the slot's start position."""
    name = capture_name(migration_uid)
    with connect(source) as conn:
        tables = table_facts(conn, mappings)
        missing = [t.label for t in tables if t.oid is None]
        if missing:
            raise CaptureError(f"cannot follow {', '.join(missing)}: no such table on the source")
        slot = _slot(conn, name)
        _ensure_publication(conn, name, tables, slot_exists=slot is not None)
        if slot is None:
            _record_columns(conn, name, [t.oid for t in tables if t.oid is not None])
            slot = _create_slot(conn, name)
        if slot["slot_type"] != "logical" or slot["plugin"] != "pgoutput" or not slot["here"]:
            raise CaptureError(
                f"replication slot {name} exists but is not a pgoutput slot of this database "
                f"({slot['slot_type']}, {slot['plugin']}, database {slot['database']}): drop it"
            )
        return position(parse_lsn(slot["confirmed_flush_lsn"]))


def drop(source: Side, migration_uid: str) -> str:
    """Drop the slot and the publication; returns what was dropped ('' when neither existed)."""
    name = capture_name(migration_uid)
    dropped: list[str] = []
    with connect(source) as conn:
        if _slot(conn, name) is not None and _drop_slot(conn, name):
            dropped.append(f"slot {name}")
        if conn.execute(q.PUBLICATION, {"name": name}).fetchone() is not None:
            conn.execute(sql.SQL("DROP PUBLICATION IF EXISTS {}").format(sql.Identifier(name)))
            dropped.append(f"publication {name}")
    return " and ".join(dropped) + " dropped" if dropped else ""


def current_position(source: Side) -> Position:
    with connect(source) as conn:
        row = conn.execute(q.CURRENT_LSN).fetchone()
    assert row is not None
    return position(parse_lsn(row[0]))


def slot_health(source: Side, migration_uid: str) -> SlotHealth | None:
    """The slot's WAL retention; None when it does not exist."""
    with connect(source) as conn:
        slot = _slot(conn, capture_name(migration_uid))
    if slot is None:
        return None
    return SlotHealth(
        wal_status=str(slot["wal_status"] or ""),
        safe_wal_size=slot["safe_wal_size"],
        retained_bytes=slot["retained_bytes"],
        active=bool(slot["active"]),
    )


async def open_source(
    source: Side,
    mappings: Sequence[TableMapping],
    migration_uid: str,
    start: Position,
    sessions: SessionLedger | None = None,
) -> PgChangeSource:
    """The changes committed after `start`, read from the migration's slot (on a session kept
    in `sessions`, the follower's ledger, when given)."""
    name = capture_name(migration_uid)
    conn = await connect_async(source)
    if sessions is not None:
        sessions.track("source", conn)
    try:
        async with conn.cursor(row_factory=dict_row) as cur:
            slot = await (await cur.execute(q.SLOT, {"slot": name})).fetchone()
            publication = await (await cur.execute(q.PUBLICATION, {"name": name})).fetchone()
        if slot is None or publication is None:
            what = "replication slot" if slot is None else "publication"
            raise CaptureError(
                f"{what} {name} does not exist on the source: the capture was dropped, or never "
                "started; the migration has to start over"
            )
        followed, failure = await _followed_tables(conn, mappings, publication)
        assembler = TransactionAssembler(followed, AppliedPosition(start))
        confirmed = parse_lsn(slot["confirmed_flush_lsn"])
        return PgChangeSource(conn, name, name, assembler, confirmed, start, failure)
    except BaseException:
        await conn.close()
        raise


async def _followed_tables(
    conn: psycopg.AsyncConnection[Any], mappings: Sequence[TableMapping], publication: Mapping[str, Any]
) -> tuple[dict[int, FollowedTable], SourceSchemaChanged | None]:
    """The mappings' tables by OID with their published columns at the start (the catalog's now
    if the record of them is gone); the first table that no longer matches its mapping, reported
    on the first read."""
    published = set(publication["oids"])
    recorded = parse_columns(publication["baseline"])
    params = {"schemas": [m.source_schema for m in mappings], "names": [m.source_table for m in mappings]}
    async with conn.cursor(row_factory=dict_row) as cur:
        tables = await (await cur.execute(q.TABLES, params)).fetchall()
        oids = [t["oid"] for t in tables if t["oid"] is not None]
        columns = await (await cur.execute(q.COLUMNS, {"oids": oids})).fetchall()
    by_oid = recorded if recorded is not None else _by_oid(columns)
    followed: dict[int, FollowedTable] = {}
    failure: SourceSchemaChanged | None = None
    for mapping, table in zip(mappings, tables, strict=True):
        label = mapping.qualified_source
        if table["oid"] is None:
            failure = failure or SourceSchemaChanged(label, "table dropped or renamed")
            continue
        if table["oid"] not in published:
            raise CaptureError(
                f"the capture's publication does not include table {label}: it was started for "
                "other tables; the migration has to start over"
            )
        cols = tuple(by_oid.get(table["oid"], ()))
        present = {c.name for c in cols} | set(table["generated"] or ())
        gone = [c.source for c in mapping.columns if c.source not in present]
        if gone:
            failure = failure or SourceSchemaChanged(label, ", ".join(f"column {c} dropped" for c in gone))
        followed[table["oid"]] = FollowedTable(
            table["oid"],
            (mapping.source_schema, mapping.source_table),
            label,
            table["nspname"],
            table["relname"],
            cols,
        )
    return followed, failure


def _by_oid(rows: Sequence[Mapping[str, Any]]) -> dict[int, tuple[CatalogColumn, ...]]:
    out: dict[int, list[CatalogColumn]] = {}
    for r in rows:
        out.setdefault(r["oid"], []).append(CatalogColumn(r["name"], r["type_oid"], r["atttypmod"]))
    return {oid: tuple(columns) for oid, columns in out.items()}


def columns_text(columns: Mapping[int, Sequence[CatalogColumn]]) -> str:
    """The followed tables' published columns at the start, as the publication's comment."""
    tables = {
        str(oid): [[c.name, c.type_oid, c.type_modifier] for c in cols] for oid, cols in columns.items()
    }
    return json.dumps({"ferry": "columns at capture start", "tables": tables}, separators=(",", ":"))


def parse_columns(text: str | None) -> dict[int, tuple[CatalogColumn, ...]] | None:
    """`columns_text` read back; None when the comment is not one."""
    try:
        tables = json.loads(text or "")["tables"]
        return {
            int(oid): tuple(CatalogColumn(str(n), int(t), int(m)) for n, t, m in cols)
            for oid, cols in tables.items()
        }
    except (ValueError, KeyError, TypeError):
        return None


def _record_columns(conn: psycopg.Connection[Any], name: str, oids: Sequence[int]) -> None:
    """Keep the tables' columns as they are right before the slot starts: every Relation message
    after the start is compared with them (`ferry.cdc.pg_transactions`), across restarts. The
    publication's comment holds them, so nothing else is written on the source and they go with
    the publication."""
    with conn.cursor(row_factory=dict_row) as cur:
        columns = _by_oid(cur.execute(q.COLUMNS, {"oids": list(oids)}).fetchall())
    comment = sql.SQL(q.COMMENT_PUBLICATION).format(
        name=sql.Identifier(name), baseline=sql.Literal(columns_text(columns))
    )
    conn.execute(comment)


def _slot(conn: psycopg.Connection[Any], name: str) -> dict[str, Any] | None:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(q.SLOT, {"slot": name}).fetchone()


def _ensure_publication(
    conn: psycopg.Connection[Any], name: str, tables: Sequence[TableFacts], slot_exists: bool
) -> None:
    """The publication of exactly these tables. Once the slot exists its table set is fixed: a
    table added then would miss the changes made before."""
    wanted = {t.oid for t in tables}
    via_root = any(t.kind == "p" for t in tables)
    table_list = sql.SQL(", ").join(t.sql_name() for t in tables)
    with conn.cursor(row_factory=dict_row) as cur:
        existing = cur.execute(q.PUBLICATION, {"name": name}).fetchone()
    if existing is None:
        if slot_exists:
            raise CaptureError(
                f"replication slot {name} exists without its publication: the capture is broken; "
                "the migration has to start over"
            )
        create = sql.SQL("CREATE PUBLICATION {} FOR TABLE {} WITH (publish_via_partition_root = {})")
        try:
            conn.execute(create.format(sql.Identifier(name), table_list, sql.Literal(via_root)))
        except errors.DuplicateObject:
            _ensure_publication(conn, name, tables, slot_exists)
        return
    if set(existing["oids"]) == wanted and existing["pubviaroot"] == via_root:
        return
    if slot_exists:
        if wanted <= set(existing["oids"]):
            return  # more tables published than followed: their changes are skipped
        raise CaptureError(
            f"the capture {name} was started for other tables than the migration selects now; "
            "the migration has to start over"
        )
    conn.execute(sql.SQL("ALTER PUBLICATION {} SET TABLE {}").format(sql.Identifier(name), table_list))
    conn.execute(
        sql.SQL("ALTER PUBLICATION {} SET (publish_via_partition_root = {})").format(
            sql.Identifier(name), sql.Literal(via_root)
        )
    )


def _create_slot(conn: psycopg.Connection[Any], name: str) -> dict[str, Any]:
    conn.execute(sql.SQL("SET statement_timeout = {}").format(sql.Literal(f"{SLOT_CREATE_TIMEOUT_SECONDS}s")))
    try:
        conn.execute(q.CREATE_SLOT, {"slot": name})
    except errors.DuplicateObject:
        pass  # a concurrent start made it
    except errors.QueryCanceled as error:
        raise CaptureError(
            f"creating replication slot {name} waited {SLOT_CREATE_TIMEOUT_SECONDS} s for the "
            "transactions running on the source server to end (a slot starts only once every "
            "transaction that was running has ended): end long-running or idle-in-transaction "
            "sessions (pg_stat_activity) and retry"
        ) from error
    finally:
        conn.execute("RESET statement_timeout")
    slot = _slot(conn, name)
    if slot is None:
        raise CaptureError(f"replication slot {name} vanished right after it was created")
    return slot


def _drop_slot(conn: psycopg.Connection[Any], name: str) -> bool:
    """Drop the slot; False when it was gone already. A backend holding it is waited for, then
    terminated (see the module docstring)."""
    deadline = time.monotonic() + DROP_WAIT_SECONDS
    while True:
        try:
            conn.execute(q.DROP_SLOT, {"slot": name})
            return True
        except errors.UndefinedObject:
            return False
        except errors.ObjectInUse as error:
            slot = _slot(conn, name)
            if slot is None:
                return False
            now = time.monotonic()
            if now >= deadline + DROP_WAIT_SECONDS:
                raise CaptureError(
                    f"replication slot {name} stays in use by backend {slot['active_pid']}: "
                    f"SELECT pg_terminate_backend({slot['active_pid']}) and retry"
                ) from error
            if now >= deadline and slot["active_pid"] is not None:
                conn.execute(q.TERMINATE, {"pid": slot["active_pid"]})
            time.sleep(0.1)
