"""The thread that reads a MariaDB/MySQL binlog for one follower: a `BinLogStreamReader` (the
replication protocol, mysql-replication) from a position, its events grouped into source
transactions by `ferry.cdc.mysql_capture_stream.BinlogPass`, handed over through a bounded queue
so reading goes on while the target writes. A transaction too large to hold is read a second time
from its first event (`Reread`). Errors end the thread and are handed over last, to be raised by
the follower. The follower's session ledger (`sessions`) gets every connection the library
opens, through its connect factory (`pymysql_wrapper`).
"""

from __future__ import annotations

import queue
import threading
from typing import Any

from pymysqlreplication import BinLogStreamReader  # type: ignore[import-untyped]
from pymysqlreplication.event import FormatDescriptionEvent  # type: ignore[import-untyped]

from ferry.cdc.changes import SourceSchemaChanged, SourceTransaction
from ferry.cdc.mysql_capture_stream import (
    BinlogPass,
    BinlogPosition,
    BinlogStreamError,
    ReaderStopped,
    Reread,
    StreamConfig,
)
from ferry.copy.sessions import SessionLedger

QUEUE_CHUNKS = 8  # chunks read ahead of the follower
HEARTBEAT_SECONDS = 1.0  # the server sends a heartbeat after this long without events
READ_TIMEOUT_SECONDS = 60  # a silent connection (no heartbeat for this long) is dead


class BinlogReader:
    """Reads the binlog from `start` in a thread; `queue` holds SourceTransactions and, last, the
    exception that ended the reading."""

    def __init__(
        self, config: StreamConfig, start: BinlogPosition, sessions: SessionLedger | None = None
    ) -> None:
        self.config = config
        self.sessions = sessions
        self.start_position = start
        self.queue: queue.Queue[SourceTransaction | BaseException] = queue.Queue(maxsize=QUEUE_CHUNKS)
        self.position = start  # the end of the last transaction read
        self.gtid: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"binlog-{config.server_id}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        while True:  # unblock a put waiting for room
            try:
                self.queue.get_nowait()
            except queue.Empty:
                break
        self._thread.join(timeout)

    def _put(self, item: SourceTransaction | BaseException) -> None:
        while not self._stop.is_set():
            try:
                self.queue.put(item, timeout=0.2)
                return
            except queue.Full:
                continue
        raise ReaderStopped()

    def _stream(self, start: BinlogPosition, blocking: bool) -> Any:
        return BinLogStreamReader(
            connection_settings={**self.config.connection, "read_timeout": READ_TIMEOUT_SECONDS},
            server_id=self.config.server_id,
            resume_stream=True,
            log_file=start.file,
            log_pos=start.pos,
            blocking=blocking,
            slave_heartbeat=HEARTBEAT_SECONDS if blocking else None,
            only_schemas=sorted({schema for schema, _ in self.config.tables}),
            only_tables=sorted({table for _, table in self.config.tables}),
            enable_logging=False,
            pymysql_wrapper=None if self.sessions is None else self.sessions.replication_connect("source"),
        )

    def _run(self) -> None:
        try:
            position = self.start_position
            while not self._stop.is_set():
                reread = self._read(position, None)
                if reread is None:
                    return
                self._read(reread.start, reread.end)
                position = reread.end
        except ReaderStopped:
            return
        except BaseException as exc:  # handed to the follower, which raises it
            if not isinstance(exc, SourceSchemaChanged | BinlogStreamError):
                wrapped = BinlogStreamError(
                    f"reading the binlog after {self.position.file}:{self.position.pos} failed: {exc}"
                )
                wrapped.__cause__ = exc
                exc = wrapped
            try:
                self._put(exc)
            except ReaderStopped:
                return

    def _read(self, start: BinlogPosition, commit: BinlogPosition | None) -> Reread | None:
        """Follow the binlog from `start` (until a large transaction needs a second reading), or
        read the large transaction ending at `commit` a second time."""
        reading = BinlogPass(self.config, start, self._put, commit)
        stream = self._stream(start, blocking=commit is None)
        try:
            while not self._stop.is_set():
                event = stream.fetchone()
                if event is None:
                    raise BinlogStreamError(f"the binlog stream from {start.file}:{start.pos} ended")
                if isinstance(event, FormatDescriptionEvent) and event.packet.log_pos:
                    # A binlog file starts (the one sent when a connection starts mid-file has no
                    # position). Table ids restart with the server, and the library keeps the map
                    # of an id whose new table it filters out: forget every id.
                    stream.table_map.clear()
                reread = reading.handle(event)
                if commit is None:
                    self.position, self.gtid = reading.boundary, reading.gtid or self.gtid
                if reread is not None or reading.done:
                    return reread
            return None
        finally:
            stream.close()
