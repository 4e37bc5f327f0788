"""The stream of a MariaDB/MySQL source's committed transactions, as the follower reads it
(`ferry.cdc.changes.ChangeSource`): the binlog reader thread (`ferry.cdc.mysql_capture_stream`),
the positions and file list on a control connection, and the lag in bytes across binlog files.

Opened by `ferry.cdc.mysql_capture.open_source`.
"""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

import pymysql

from ferry.cdc import mysql_capture_sql as sql
from ferry.cdc.changes import (
    AppliedPosition,
    CaptureKind,
    Position,
    SourceLag,
    SourceSchemaChanged,
    SourceTransaction,
)
from ferry.cdc.mysql_binlog_reader import BinlogReader
from ferry.cdc.mysql_capture_stream import BinlogPosition, StreamConfig
from ferry.cdc.mysql_connection import BinlogOff, BinlogPurged, connect
from ferry.copy.sessions import SessionLedger
from ferry.services.planning import Side


def bytes_between(applied: Position, current: Position, logs: Sequence[sql.BinlogFile]) -> int | None:
    """Binlog bytes from `applied` to `current`, across files; None when a file in between is gone."""
    if applied >= current:
        return 0
    if applied.major == current.major:
        return current.minor - applied.minor
    sizes = {BinlogPosition(f.name, 0).number: f.size for f in logs}
    if applied.major not in sizes:
        return None
    total = max(sizes[applied.major] - applied.minor, 0) + current.minor
    for number in range(applied.major + 1, current.major):
        if number not in sizes:
            return None
        total += sizes[number]
    return total


def _file_position(position: Position, logs: Sequence[sql.BinlogFile]) -> BinlogPosition:
    """The binlog file and offset of a Position (its text names the file; else its number does)."""
    parsed = BinlogPosition.parse(position.text)
    if parsed is not None:
        return parsed
    for log in logs:
        if BinlogPosition(log.name, 0).number == position.major:
            return BinlogPosition(log.name, position.minor)
    raise BinlogPurged(f"number {position.major}")


# -- the change source --------------------------------------------------------------------------


class MySQLChangeSource:
    """The committed transactions of the followed tables after a position, from the binlog."""

    kind: CaptureKind = "binlog"

    def __init__(
        self,
        source: Side,
        config: StreamConfig,
        start: Position,
        variables: Mapping[str, str],
        pending: SourceSchemaChanged | None,
        sessions: SessionLedger | None = None,
    ) -> None:
        self.source = source
        self.sessions = sessions
        self.config = config
        self.start = start
        self.variables = dict(variables)
        self._pending_error: BaseException | None = pending
        self._reader: BinlogReader | None = None
        self._control: sql.MySQLConnection | None = None
        self._lock = threading.Lock()

    # The control connection (positions, file list) is used from worker threads, one at a time.
    def _on_control(self, work: Any) -> Any:
        with self._lock:
            for attempt in (1, 2):
                if self._control is None:
                    self._control = connect(self.source)
                    if self.sessions is not None:
                        self.sessions.track("source", self._control)
                        if attempt == 2:  # the first one was lost
                            self.sessions.reconnected(("source",))
                try:
                    return work(self._control)
                except pymysql.err.OperationalError:
                    self._control.close()
                    self._control = None
                    if attempt == 2:
                        raise
        return None

    def _resume_point(self, after: AppliedPosition) -> BinlogPosition:
        """Where to read from: the applied position when a transaction ends there (every position
        handed over is a transaction boundary), else the start, skipping what is applied."""
        logs: list[sql.BinlogFile] = self._on_control(sql.binary_logs)
        begin = after.position if after.complete and after.position > self.start else self.start
        point = _file_position(begin, logs)
        if point.file not in {log.name for log in logs}:
            raise BinlogPurged(point.file)
        return point

    async def _open_reader(self, after: AppliedPosition) -> BinlogReader:
        point = await asyncio.to_thread(self._resume_point, after)
        reader = BinlogReader(self.config, point, self.sessions)
        reader.start()
        return reader

    @staticmethod
    async def _next(reader: BinlogReader, wait: float) -> SourceTransaction | BaseException | None:
        try:
            return reader.queue.get_nowait()
        except queue.Empty:
            if wait <= 0:
                return None
        try:
            return await asyncio.to_thread(reader.queue.get, True, wait)
        except queue.Empty:
            return None

    async def read(
        self, after: AppliedPosition, max_changes: int, wait_seconds: float
    ) -> list[SourceTransaction]:
        if self._pending_error is not None:
            raise self._pending_error
        if self._reader is None:
            self._reader = await self._open_reader(after)
        out: list[SourceTransaction] = []
        count = 0
        deadline = time.monotonic() + wait_seconds
        while count < max_changes:
            wait = deadline - time.monotonic() if not out else 0
            item = await self._next(self._reader, wait)
            if item is None:
                break
            if isinstance(item, BaseException):
                self._pending_error = item
                if out:
                    break
                raise item
            kept = _uncovered(item, after)
            if kept is not None:
                out.append(kept)
                count += len(kept.changes)
        return out

    async def confirm(self, applied: AppliedPosition) -> None:
        """Nothing to release: the binlog is the server's, kept by its retention."""

    async def lag(self, applied: AppliedPosition) -> SourceLag:
        def measure(conn: sql.MySQLConnection) -> tuple[BinlogPosition, list[sql.BinlogFile]]:
            found = sql.binlog_status(conn)
            if found is None:
                raise BinlogOff("the source no longer writes a binlog")
            return BinlogPosition(*found), sql.binary_logs(conn)

        now, logs = await asyncio.to_thread(self._on_control, measure)
        current = now.position()
        return SourceLag(current, bytes_between(applied.position, current, logs))

    async def details(self) -> Mapping[str, str]:
        reader = self._reader
        read = reader.position if reader is not None else BinlogPosition.parse(self.start.text)
        out = {
            "serverId": str(self.config.server_id),
            "binlogFormat": self.variables.get("binlog_format", ""),
            "startPosition": str(self.start),
        }
        if read is not None:
            out["binlogFile"], out["binlogPosition"] = read.file, str(read.pos)
        gtid = (reader.gtid if reader is not None else None) or self.variables.get("gtid_binlog_pos")
        if gtid:
            out["gtid"] = gtid
        return out

    async def close(self) -> None:
        reader, self._reader = self._reader, None
        if reader is not None:
            await asyncio.to_thread(reader.stop)
        with self._lock:
            if self._control is not None:
                self._control.close()
                self._control = None


def _uncovered(txn: SourceTransaction, after: AppliedPosition) -> SourceTransaction | None:
    """The part of a transaction (or chunk) `after` does not cover; None when it covers it all."""
    if not txn.changes:
        return None if after.covers(txn.position, txn.first_index) else txn
    skip = 0
    while skip < len(txn.changes) and after.covers(txn.position, txn.first_index + skip):
        skip += 1
    if skip == 0:
        return txn
    if skip == len(txn.changes):
        return None
    return SourceTransaction(
        txn.position, txn.commit_time, txn.changes[skip:], txn.first_index + skip, txn.last_chunk
    )
