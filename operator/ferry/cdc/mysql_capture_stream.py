"""Binlog events to source transactions: what one pass over a row-based binlog hands over, in
commit order (`BinlogPass`), and the positions and settings it works with.

The thread that runs the passes and the queue that bounds memory are
`ferry.cdc.mysql_binlog_reader`.

Transactions ("event groups") in a MariaDB binlog start with a GTID event (MySQL: a GTID or a
`BEGIN` query) and end with an XID event (InnoDB), a `COMMIT` query (non-transactional
engines) or, for DDL, with their only statement. A transaction's position is the end of its
last event: where the stream would resume after it.

A large transaction is handed over in chunks that all carry its commit position, which is only
known at its end. Holding it whole would make memory grow with the transaction, so beyond
`hold_changes` the reader keeps scanning without decoding rows until the XID tells the commit
position, then reads the transaction a second time from its first event, handing over chunks
as they fill. Big transactions cost two reads; memory stays bounded.

Transactions that change no followed table are not handed over, but their end is: an empty
transaction (a marker) at most every `MARKER_SECONDS`, and one at the server's position when
the stream is idle (the server's heartbeat). Without them the follower could never reach a
cutover position that lies past the last change of a followed table.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pymysqlreplication.event import (  # type: ignore[import-untyped]
    FormatDescriptionEvent,
    GtidEvent,
    HeartbeatLogEvent,
    MariadbGtidEvent,
    QueryEvent,
    RotateEvent,
    XidEvent,
)
from pymysqlreplication.row_event import (  # type: ignore[import-untyped]
    DeleteRowsEvent,
    TableMapEvent,
    UpdateRowsEvent,
    WriteRowsEvent,
)

from ferry.cdc.changes import ChangeKind, Position, RowChange, SourceSchemaChanged, SourceTransaction
from ferry.cdc.mysql_capture_ddl import changed_tables, dropped_database
from ferry.cdc.mysql_capture_values import (
    Convert,
    SourceColumn,
    converter,
    describe,
    none_value,
    structure_change,
)

CHUNK_CHANGES = 5000  # changes per SourceTransaction chunk
HOLD_CHANGES = 20000  # a transaction up to this size is held whole; a larger one is read twice
MARKER_SECONDS = 0.5

# mysql-replication warns on every connection unless binlog_row_metadata = FULL; the capture takes
# column names, signedness and character sets from information_schema instead (`describe`).
logging.getLogger("pymysqlreplication").setLevel(logging.ERROR)

_MARIADB_STANDALONE = 1  # MariaDB GTID flag: the group is one statement, with no COMMIT or XID
_TAIL_DIGITS = re.compile(r"(\d+)$")
_COMMENT = re.compile(r"/\*.*?\*/", re.S)


class BinlogStreamError(Exception):
    """The binlog could not be read (connection lost for good, a purged file, a server error)."""


@dataclass(frozen=True, order=True)
class BinlogPosition:
    file: str
    pos: int

    @property
    def number(self) -> int:
        """The file's sequence number (binlog.000003 -> 3): what orders files."""
        found = _TAIL_DIGITS.search(self.file)
        return int(found.group(1)) if found else 0

    def position(self) -> Position:
        return Position(self.number, self.pos, f"{self.file}:{self.pos}")

    @classmethod
    def parse(cls, text: str) -> BinlogPosition | None:
        name, sep, pos = text.rpartition(":")
        return cls(name, int(pos)) if sep and name and pos.isdigit() else None


@dataclass(frozen=True)
class FollowedTable:
    """A followed table: how RowChange names it, and its columns when the follower started."""

    key: tuple[str | None, str]  # (the mapping's source schema, table)
    label: str  # for messages: schema.table
    columns: tuple[SourceColumn, ...]


@dataclass(frozen=True)
class StreamConfig:
    connection: Mapping[str, Any]  # PyMySQL keyword arguments, without a database
    server_id: int
    tables: Mapping[tuple[str, str], FollowedTable]  # by (database, table) as the binlog names it
    mariadb: bool
    chunk_changes: int = CHUNK_CHANGES
    hold_changes: int = HOLD_CHANGES


class _Decoding:
    """The values of one table map: library row dicts into the copy's values (`mysql_capture_values`)."""

    def __init__(self, table: FollowedTable, binlog_columns: list[Any], mariadb: bool) -> None:
        self.table = table
        self.columns = table.columns
        self.converters: tuple[Convert | None, ...] = tuple(
            converter(c, int(b.type), mariadb) for c, b in zip(self.columns, binlog_columns, strict=True)
        )
        # Columns whose None may stand for something else (a zero date, an empty SET).
        self.nones = frozenset(c.name for c in self.columns if c.data_type in ("date", "datetime", "set"))
        self.plain = not self.nones and not any(self.converters)

    def row(self, values: dict[str, Any], none_sources: Mapping[str, str]) -> dict[str, object]:
        if self.plain:
            return values
        out: dict[str, object] = {}
        for (name, value), convert, column in zip(values.items(), self.converters, self.columns, strict=True):
            if value is None:
                if name in self.nones:
                    out[name] = none_value(column, none_sources.get(name))
                    continue
            elif convert is not None:
                value = convert(value)
            out[name] = value
        return out

    def changes(self, event: Any) -> list[RowChange]:
        key, row = self.table.key, self.row
        if isinstance(event, WriteRowsEvent):
            return [
                RowChange(key, ChangeKind.INSERT, new=row(r["values"], r["none_sources"])) for r in event.rows
            ]
        if isinstance(event, DeleteRowsEvent):
            return [
                RowChange(key, ChangeKind.DELETE, old=row(r["values"], r["none_sources"])) for r in event.rows
            ]
        return [
            RowChange(
                key,
                ChangeKind.UPDATE,
                new=row(r["after_values"], r["after_none_sources"]),
                old=row(r["before_values"], r["before_none_sources"]),
            )
            for r in event.rows
        ]


@dataclass
class _Group:
    start: BinlogPosition
    # "statement": one statement (DDL) with no COMMIT or XID; "transaction": ends with an XID or a
    # COMMIT; "unknown": a MySQL GTID not yet followed by BEGIN (a DDL statement comes alone).
    kind: str
    changes: list[RowChange] = field(default_factory=list)
    emitted: int = 0  # changes already handed over in chunks (second reading)
    overflow: bool = False  # too large to hold: skipped, to be read a second time


@dataclass(frozen=True)
class Reread:
    """A transaction too large to hold: read it again from `start` up to its commit at `end`."""

    start: BinlogPosition
    end: BinlogPosition


class ReaderStopped(Exception):
    pass


class BinlogPass:
    """One reading of the binlog: events in, transactions (and markers) out through `emit`.

    `commit`: None while following; on the second reading of a large transaction, its known
    commit position, so chunks can be handed over as they fill."""

    def __init__(
        self,
        config: StreamConfig,
        start: BinlogPosition,
        emit: Callable[[SourceTransaction], None],
        commit: BinlogPosition | None = None,
    ) -> None:
        self.config = config
        self.emit = emit
        self.commit = commit
        self.file = start.file
        self.last_end = start
        self.boundary = start  # the end of the last transaction read
        self.group: _Group | None = None
        self.decodings: dict[int, _Decoding] = {}
        self.marker: tuple[BinlogPosition, datetime | None] | None = None
        self.last_emit = time.monotonic()
        self.gtid: str | None = None
        self.done = False  # the second reading reached the commit

    # -- events -------------------------------------------------------------------------------

    def handle(self, event: Any) -> Reread | None:
        if isinstance(event, RotateEvent):
            self.file = event.next_binlog
            return None
        if isinstance(event, FormatDescriptionEvent) and event.packet.log_pos:
            self.decodings.clear()  # a file starts: table ids of an earlier one may name other tables
        end = self._end(event)
        if isinstance(event, HeartbeatLogEvent):
            self._idle(BinlogPosition(event.ident or self.file, event.packet.log_pos))
            return None
        result = None
        if isinstance(event, MariadbGtidEvent | GtidEvent):
            self._open(self._start(event), _group_kind(event))
            self.gtid = str(event.gtid)
        elif isinstance(event, QueryEvent):
            result = self._query(event, end)
        elif isinstance(event, TableMapEvent):
            self._table_map(event)
        elif isinstance(event, WriteRowsEvent | UpdateRowsEvent | DeleteRowsEvent):
            self._rows(event)
        elif isinstance(event, XidEvent):
            result = self._close(end or self.last_end, event.timestamp)
        if end is not None:
            self.last_end = end
        return result

    def _end(self, event: Any) -> BinlogPosition | None:
        log_pos = int(event.packet.log_pos or 0)
        return BinlogPosition(self.file, log_pos) if log_pos else None

    def _start(self, event: Any) -> BinlogPosition:
        return BinlogPosition(self.file, int(event.packet.log_pos) - int(event.packet.event_size))

    def _open(self, start: BinlogPosition, kind: str) -> None:
        if self.group is not None:  # never left open by a well-formed binlog; end it where it ended
            self._close(self.last_end, None)
        self.group = _Group(start, kind)

    def _query(self, event: Any, end: BinlogPosition | None) -> Reread | None:
        statement = str(event.query).strip()
        words = [w.upper() for w in _COMMENT.sub(" ", statement).split(None, 2)[:2]] + [""]
        if words[0] == "BEGIN":
            if self.group is None:
                self.group = _Group(self._start(event), "transaction")
            else:
                self.group.kind = "transaction"
            return None
        ends = words[0] == "COMMIT" or (words[0] == "ROLLBACK" and words[1] != "TO")
        if ends or (words[0] == "XA" and words[1] in ("PREPARE", "COMMIT")):
            return self._close(end or self.last_end, event.timestamp)
        if words[0] in ("SAVEPOINT", "ROLLBACK", "RELEASE", "XA"):  # inside a transaction
            return None
        if self.group is None:  # a statement without GTID or BEGIN (MySQL without GTIDs): one on its own
            self.group = _Group(self._start(event), "statement")
        database = event.schema.decode() if isinstance(event.schema, bytes) else str(event.schema or "")
        self._statement(statement, database, end)
        if self.group.kind == "statement" or (self.group.kind == "unknown" and not self.group.changes):
            return self._close(end or self.last_end, event.timestamp)
        return None

    def _statement(self, statement: str, database: str, end: BinlogPosition | None) -> None:
        """A DDL statement: a structure change of a followed table stops the capture; TRUNCATE
        becomes a change of the transaction."""
        where = f" at {end.file}:{end.pos}" if end else ""
        gone = dropped_database(statement)
        for (schema, _), table in self.config.tables.items():
            if gone is not None and schema == gone:
                raise SourceSchemaChanged(table.label, f"DROP DATABASE {gone} in the binlog{where}")
        for ddl in changed_tables(statement):
            followed = self.config.tables.get((ddl.schema or database, ddl.table))
            if followed is None:
                continue
            if ddl.verb == "TRUNCATE TABLE":
                assert self.group is not None
                self.group.changes.append(RowChange(followed.key, ChangeKind.TRUNCATE))
                continue
            raise SourceSchemaChanged(
                followed.label, f"{ddl.verb} in the binlog{where}: {_shortened(statement)}"
            )

    def _table_map(self, event: Any) -> None:
        followed = self.config.tables.get((event.schema, event.table))
        if followed is None:
            return
        binlog_columns = list(event.columns)
        if len(binlog_columns) != len(followed.columns):
            raise SourceSchemaChanged(
                followed.label,
                f"the binlog describes {len(binlog_columns)} columns where the table had "
                f"{len(followed.columns)} when the follower started (at {self.file}:{event.packet.log_pos})",
            )
        for column, described in zip(followed.columns, binlog_columns, strict=True):
            change = structure_change(column, described)
            if change is not None:
                raise SourceSchemaChanged(followed.label, f"{change} (at {self.file}:{event.packet.log_pos})")
            for name, value in describe(column).items():
                setattr(described, name, value)
        self.decodings[int(event.table_id)] = _Decoding(followed, binlog_columns, self.config.mariadb)

    def _rows(self, event: Any) -> None:
        decoding = self.decodings.get(int(event.table_id))
        if decoding is None:
            return  # not a followed table (the library filters by schema and name separately)
        if self.group is None:
            self.group = _Group(self.boundary, "transaction")
        group = self.group
        if group.overflow:
            return  # the second reading decodes it
        group.changes.extend(decoding.changes(event))
        if self.commit is not None:
            # Strictly more than a chunk: the last chunk is never empty (unless the transaction is).
            while len(group.changes) > self.config.chunk_changes:
                self._chunk(group, last=False)
        elif len(group.changes) > self.config.hold_changes:
            group.overflow = True
            group.changes = []

    # -- transactions out ---------------------------------------------------------------------

    def _chunk(self, group: _Group, last: bool, commit_time: datetime | None = None) -> None:
        assert self.commit is not None
        size = self.config.chunk_changes
        changes, group.changes = group.changes[:size], group.changes[size:]
        self._send(SourceTransaction(self.commit.position(), commit_time, changes, group.emitted, last))
        group.emitted += len(changes)

    def _close(self, end: BinlogPosition, timestamp: int | None) -> Reread | None:
        group, self.group = self.group, None
        commit_time = datetime.fromtimestamp(timestamp, UTC) if timestamp else None
        self.boundary = end
        if group is None:
            return None
        if self.commit is not None:  # the second reading of a large transaction ends here
            if end != self.commit:
                raise BinlogStreamError(
                    f"the second reading of the transaction ending at {self.commit.file}:{self.commit.pos} "
                    f"ended at {end.file}:{end.pos}"
                )
            self._chunk(group, last=True, commit_time=commit_time)  # at most a chunk is left
            self.done = True
            return None
        if group.overflow:
            return Reread(group.start, end)
        if not group.changes:
            self.marker = (end, commit_time)
            if time.monotonic() - self.last_emit >= MARKER_SECONDS:
                self._flush_marker()
            return None
        size = self.config.chunk_changes
        changes = group.changes
        for first in range(0, len(changes), size):
            part = changes[first : first + size]
            last = first + size >= len(changes)
            self._send(SourceTransaction(end.position(), commit_time, part, first, last))
        return None

    def _idle(self, server: BinlogPosition) -> None:
        """The server has nothing more to send: everything up to its position is read."""
        if self.group is not None and self.group.kind != "transaction":
            self._close(self.last_end, None)
        if self.group is not None or self.commit is not None:
            return
        at = max(server, self.boundary, key=lambda p: (p.number, p.pos))
        self.boundary = at
        self.marker = (at, None)
        self._flush_marker()

    def _flush_marker(self) -> None:
        if self.marker is not None:
            at, commit_time = self.marker
            self._send(SourceTransaction(at.position(), commit_time, []))

    def _send(self, txn: SourceTransaction) -> None:
        self.marker = None
        self.last_emit = time.monotonic()
        self.emit(txn)


def _group_kind(event: Any) -> str:
    if isinstance(event, MariadbGtidEvent):
        return "statement" if event.flags & _MARIADB_STANDALONE else "transaction"
    return "unknown"


def _shortened(statement: str, limit: int = 200) -> str:
    text = " ".join(statement.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
