"""The capture of one Migration on its source, whatever the engine: check, start, open, drop.

Used by the plan (check), the operator and `ferry run` (start before the copy, drop at cutover,
rollback and delete) and the follower (open). Each engine's module does the work:
`ferry.cdc.pg_capture` (publication + logical slot, pgoutput) and `ferry.cdc.mysql_capture`
(row-based binlog). Names are per Migration UID (`ferry.cdc.names`), so every call is idempotent
and a retry after a crash finds what the first try made.
"""

from __future__ import annotations

from collections.abc import Sequence

from ferry.cdc import mysql_capture, pg_capture
from ferry.cdc.changes import ChangeSource, Position
from ferry.copy.sessions import SessionLedger
from ferry.db.dialects import family
from ferry.schema.mapping import TableMapping
from ferry.services.planning import Side


class CaptureUnsupported(Exception):
    """The source engine has no change capture in Ferry (SQLite)."""


def _engine(source: Side) -> str:
    kind = family(source.spec.engine)
    if kind not in ("postgresql", "mysql"):
        raise CaptureUnsupported(
            f"online mode needs a PostgreSQL or MariaDB/MySQL source; {source.spec.engine} has no "
            "change capture in Ferry (use mode: offline)"
        )
    return kind


def check_capture(source: Side, mappings: Sequence[TableMapping]) -> list[str]:
    """What keeps this source from being followed: each a sentence naming the fix. [] when ready."""
    if _engine(source) == "postgresql":
        return pg_capture.check_source(source, mappings)
    return mysql_capture.check_source(source, mappings)


def start_capture(source: Side, mappings: Sequence[TableMapping], migration_uid: str) -> Position:
    """Open the capture before the first row is read; returns its start position. Idempotent: a
    capture that exists already is kept and its start position returned."""
    if _engine(source) == "postgresql":
        return pg_capture.start(source, mappings, migration_uid)
    return mysql_capture.start(source, mappings, migration_uid)


def drop_capture(source: Side, migration_uid: str) -> str:
    """Remove what the capture holds on the source (slot, publication); returns what was
    removed, for messages ('' when nothing was there)."""
    if _engine(source) == "postgresql":
        return pg_capture.drop(source, migration_uid)
    return mysql_capture.drop(source, migration_uid)


def source_position(source: Side) -> Position:
    """The source's current position: where a cutover requested now must apply up to."""
    if _engine(source) == "postgresql":
        return pg_capture.current_position(source)
    return mysql_capture.current_position(source)


async def open_change_source(
    source: Side,
    mappings: Sequence[TableMapping],
    migration_uid: str,
    start: Position,
    sessions: SessionLedger | None = None,
) -> ChangeSource:
    """The stream of changes after `start` (the capture's start position, stored on the target);
    the sessions it opens on the source are kept in `sessions` (the follower's ledger) when given."""
    if _engine(source) == "postgresql":
        return await pg_capture.open_source(source, mappings, migration_uid, start, sessions)
    return await mysql_capture.open_source(source, mappings, migration_uid, start, sessions)
