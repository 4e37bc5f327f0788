"""Reading a logical slot over plain SQL: PgChangeSource, the PostgreSQL ChangeSource.

The read mechanism: `pg_logical_slot_peek_binary_changes` over an ordinary psycopg connection,
through a holdable scroll cursor, and `pg_replication_slot_advance` in `confirm()`. psycopg has
no streaming replication protocol; the SQL functions give exactly-once by construction: a peek
never moves the slot, so whatever the follower did not confirm (it confirms only after the
target committed) comes again from the next peek, and the follower skips what its stored
position covers.

Measured (`bench/cdc_pg_decode.py`, PostgreSQL 15, 2 cores, 200,000 changes read 5,000 at a
time and confirmed after each read): 40,000 to 48,000 changes/s from pgbench's TPC-B-like
script (4 changes per transaction, 4 tables), 55,000 to 75,000 changes/s in transactions of
100 changes. The server decodes 0.7 to 1.2 million messages/s and `pgoutput.decode` alone does
330,000 to 470,000 messages/s; about half of the time is Python (decoding, building row
changes and transactions), the rest peeks, fetches and slot advances.

How one peek is read:
- DECLARE … SCROLL CURSOR WITH HOLD FOR SELECT … FROM pg_logical_slot_peek_binary_changes(…)
  decodes on the server up to the WAL flushed when it starts (whole transactions only, about
  `PEEK_ROWS` messages more than it returns again: those after the slot, which the follower
  confirms a batch behind; at least twice those, so that a follower that does not confirm
  costs at most twice the reading) and keeps the rows in a tuplestore that spills to disk.
  No transaction stays open while the follower applies, so the source's vacuum is not held
  back.
- FETCH reads at most `FETCH_ROWS` rows, and about `FETCH_BYTES` (fewer rows when they are
  wide: a cursor's first fetch takes `FIRST_FETCH_ROWS` rows to size the next ones): client
  memory holds one fetch plus one chunk, however large the transaction.
- A transaction larger than a chunk goes out in chunks before its Commit was read; a chunk's
  position is the transaction's commit end, so the reader looks that Commit up ahead in the
  cursor (exponential then binary search on the row's xid, FETCH ABSOLUTE) and moves back.
- The cursor is kept across read() calls while the follower continues from what it was handed;
  an `after` that differs (a retry) starts a new peek, which returns again everything the slot
  has not been told to release.

Idle: a peek that decodes nothing means no followed transaction commits between the slot and
the WAL flushed at its start, so the slot is advanced there itself. Without that, a quiet table
in a busy database would hold back the database's WAL and each poll would decode more of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Mapping
from typing import Any, Final

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from ferry.cdc import pg_capture_sql as q
from ferry.cdc import pgoutput
from ferry.cdc.changes import (
    AppliedPosition,
    CaptureKind,
    Position,
    SourceLag,
    SourceSchemaChanged,
    SourceTransaction,
)
from ferry.cdc.pg_transactions import TransactionAssembler, position

# Messages one peek decodes at most beyond those read since the slot last moved (a peek always
# ends with a whole transaction, so a large one comes whole): bounds the decoding done before the
# first row arrives. About 0.1 s of server decoding at the measured rate.
PEEK_ROWS: Final = 20_000
FETCH_ROWS: Final = 2_000
FETCH_BYTES: Final = 16 * 1024 * 1024
FIRST_FETCH_ROWS: Final = 32
POLL_SECONDS: Final = 0.2
ADVANCE_SECONDS: Final = 1.0
CURSOR: Final = sql.Identifier("ferry_changes")
SKIPPABLE: Final = frozenset(b"IUDT")  # first bytes of row change messages

Row = tuple[bytes, int]  # (pgoutput message, xid)


def same_position(a: AppliedPosition, b: AppliedPosition) -> bool:
    """Whether `a` continues exactly where `b` left off."""
    return a.position == b.position and a.complete == b.complete and (a.complete or a.index == b.index)


class PgChangeSource:
    """A ChangeSource over one migration's logical slot and publication."""

    kind: CaptureKind = "pgoutput"

    def __init__(
        self,
        conn: psycopg.AsyncConnection[Any],
        slot: str,
        publication: str,
        assembler: TransactionAssembler,
        confirmed_lsn: int,
        start: Position,
        failure: SourceSchemaChanged | None = None,
    ) -> None:
        self._conn = conn
        self.slot = slot
        self.publication = publication
        self.start = start
        self._assembler = assembler
        self._confirmed = confirmed_lsn  # the slot's confirmed_flush_lsn as this source moved it
        self._failure: Exception | None = failure  # a schema change is reported on every read after
        self._rows: deque[Row] = deque()
        self._fetch_rows = FIRST_FETCH_ROWS  # rows the next FETCH asks for
        self._cursor_open = False
        self._cursor_pos = 0  # absolute (1-based) position of the last row fetched from the cursor
        self._cursor_done = False  # the cursor has no row after the fetched ones
        self._delivered: AppliedPosition | None = None  # where the last read left off
        self._consumed = 0  # rows taken from the current cursor
        # (commit end, rows taken at its Commit) of the transactions handed over from the cursor:
        # how many of its rows lie past the slot once it was advanced to one of them.
        self._commits: deque[tuple[int, int]] = deque()
        # The flush LSN the last peek decoded up to when it was not cut short by its row limit:
        # peeking again before the WAL moves would return the same rows.
        self._drained_to: int | None = None
        self._peek_flush = 0  # the flush LSN the open cursor's peek started at
        self._peek_limit = 0  # the row limit it was given
        self._advancing = asyncio.Lock()
        self._to_confirm = confirmed_lsn  # the furthest position confirmed
        self._advanced_at = -ADVANCE_SECONDS  # monotonic time of the last advance

    async def read(
        self, after: AppliedPosition, max_changes: int, wait_seconds: float
    ) -> list[SourceTransaction]:
        """See ChangeSource.read. Whole transactions while fewer than `max_changes` changes were
        collected, chunks of at most `max_changes`: a read returns less than twice `max_changes`.

        A schema change found after some transactions were collected is raised by the next read,
        so the follower applies everything before it first; once raised, every read raises it.
        After any other error the next read starts over from its `after` (a new peek)."""
        if self._failure is not None:
            raise self._failure
        try:
            return await self._read(after, max(1, max_changes), wait_seconds)
        except BaseException:
            self._delivered = None  # what was collected is lost: the next read must not continue
            raise

    async def _read(
        self, after: AppliedPosition, max_changes: int, wait_seconds: float
    ) -> list[SourceTransaction]:
        if self._delivered is None or not same_position(after, self._delivered):
            await self._close_cursor()
            self._assembler.reset(after)
            self._drained_to = None  # a retry: what the slot holds comes again
        self._assembler.chunk_size = max_changes
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_seconds
        out: list[SourceTransaction] = []
        count = 0
        while count < max_changes:
            row = await self._next_row()
            if row is None:
                if out:
                    break
                if await self._peek():
                    continue
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                await asyncio.sleep(min(POLL_SECONDS, remaining))
                continue
            if self._assembler.skipping and row[0][0] in SKIPPABLE:
                continue  # a change of a transaction applied already: not even decoded
            try:
                chunk = self._assembler.feed(pgoutput.decode(row[0]))
            except SourceSchemaChanged as error:
                self._failure = error
                if out:
                    break
                raise
            if chunk is None and self._assembler.wants_position:
                chunk = self._assembler.position_found(await self._find_commit())
            if chunk is not None:
                out.append(chunk)
                count += len(chunk.changes)
                if chunk.last_chunk:
                    self._commits.append((chunk.position.major, self._consumed))
        self._delivered = self._assembler.mark
        return out

    async def confirm(self, applied: AppliedPosition) -> None:
        """Let the slot advance to what the target committed. Inside a transaction handed over in
        chunks, to where its commit record starts: the slot then skips every transaction before
        it and still returns it.

        The slot is advanced at once at most every `ADVANCE_SECONDS`, else before the next peek
        (or at close): each advance decodes the WAL from the slot's restart point, about as much
        work as a peek, so a follower confirming many small batches does not double the work."""
        if applied.complete:
            target: int | None = applied.position.major
        else:
            target = self._assembler.commit_starts.get(applied.position.major)
        if target is None:
            return
        self._to_confirm = max(self._to_confirm, target)
        if time.monotonic() - self._advanced_at >= ADVANCE_SECONDS:
            await self._advance(self._to_confirm)

    async def lag(self, applied: AppliedPosition) -> SourceLag:
        """Bytes of WAL between the source's insert position and what is applied. The slot's own
        position counts as applied when it is further: it only passes what was confirmed or
        what holds no followed change (an idle capture shows no lag, however busy the rest of
        the source is)."""
        current = pgoutput.parse_lsn(await self._scalar(q.CURRENT_LSN))
        done = max(applied.position.major, self._confirmed)
        return SourceLag(position(current), max(0, current - done))

    async def details(self) -> Mapping[str, str]:
        async with self._conn.cursor(row_factory=dict_row) as cur:
            await cur.execute(q.SLOT, {"slot": self.slot})
            row = await cur.fetchone()
        return slot_details(self.slot, self.publication, row)

    async def close(self) -> None:
        with contextlib.suppress(psycopg.Error):
            await self._close_cursor()
            await self._advance(self._to_confirm)
        await self._conn.close()

    async def _next_row(self) -> Row | None:
        if not self._rows:
            if not self._cursor_open or self._cursor_done:
                return None
            if not await self._fetch_more():
                return None
        self._consumed += 1
        return self._rows.popleft()

    async def _fetch_more(self) -> bool:
        asked = self._fetch_rows
        rows = await self._fetch(sql.SQL(q.FETCH).format(rows=_number(asked), cursor=CURSOR))
        if rows:  # the next fetch: about FETCH_BYTES at the size these rows had
            size = sum(len(data) for data, _ in rows) // len(rows) + 1
            self._fetch_rows = max(1, min(FETCH_ROWS, FETCH_BYTES // size))
        self._cursor_pos += len(rows)
        self._cursor_done = len(rows) < asked
        if self._cursor_done and self._cursor_pos < self._peek_limit:
            self._drained_to = self._peek_flush  # the peek decoded all there was
        self._rows.extend(rows)
        return bool(rows)

    async def _peek(self) -> bool:
        """A new cursor over what the slot holds; False when it held nothing new."""
        if self._assembler.in_transaction:
            raise pgoutput.ProtocolError("the peek ended inside a transaction")
        flush = pgoutput.parse_lsn(await self._scalar(q.FLUSH_LSN))
        if flush == self._drained_to:
            return False  # no WAL since a peek read everything the slot held
        await self._close_cursor()
        await self._advance(self._to_confirm)  # a confirmation put off (see confirm)
        again = self._rows_past_slot()
        self._peek_flush, self._peek_limit = flush, max(PEEK_ROWS + again, 2 * again)
        peek = sql.SQL(q.PEEK).format(cursor=CURSOR)
        params = {"slot": self.slot, "rows": self._peek_limit, "publication": self.publication}
        await self._conn.execute(peek, params)
        self._cursor_open, self._cursor_pos, self._cursor_done = True, 0, False
        self._fetch_rows = FIRST_FETCH_ROWS
        self._consumed = 0  # the new cursor starts at the slot
        self._commits.clear()
        if await self._fetch_more():
            return True
        await self._close_cursor()
        await self._advance(flush)  # nothing followed commits before `flush` (module docstring)
        return False

    def _rows_past_slot(self) -> int:
        """Rows of the last cursor that the next peek returns again: those after the slot."""
        behind = self._consumed
        for end, taken in self._commits:
            if end > self._confirmed:
                break
            behind = self._consumed - taken
        return behind

    async def _find_commit(self) -> int:
        """The end LSN of the open transaction: its Commit is its last row (rows of one transaction
        are contiguous in a peek); in the rows fetched already, or further in the cursor."""
        xid = self._assembler.open_xid
        last: bytes | None = None
        for data, row_xid in self._rows:
            if row_xid != xid:
                break
            last = data
        else:
            if not self._cursor_done:
                last = await self._search_cursor(xid)
        if last is None:
            raise pgoutput.ProtocolError(f"transaction {xid} without its Commit in the peek")
        commit = pgoutput.decode(last)
        if not isinstance(commit, pgoutput.Commit):
            raise pgoutput.ProtocolError(f"the last message of transaction {xid} is not its Commit")
        return commit.end_lsn

    async def _search_cursor(self, xid: int | None) -> bytes:
        """The last row of transaction `xid` past the fetched rows, found with FETCH ABSOLUTE
        (exponential steps, then halving), the cursor put back where it was."""
        inside, step = self._cursor_pos, FETCH_ROWS
        while True:
            probe = await self._row_at(inside + step)
            if probe is None or probe[1] != xid:
                outside = inside + step
                break
            inside, step = inside + step, step * 2
        while outside - inside > 1:
            middle = (inside + outside) // 2
            probe = await self._row_at(middle)
            if probe is not None and probe[1] == xid:
                inside = middle
            else:
                outside = middle
        found = await self._row_at(inside)
        await self._conn.execute(
            sql.SQL(q.MOVE_ABSOLUTE).format(row=_number(self._cursor_pos), cursor=CURSOR)
        )
        assert found is not None
        return found[0]

    async def _row_at(self, row: int) -> Row | None:
        rows = await self._fetch(sql.SQL(q.FETCH_ABSOLUTE).format(row=_number(row), cursor=CURSOR))
        return rows[0] if rows else None

    async def _fetch(self, statement: sql.Composed) -> list[Row]:
        async with self._conn.cursor(binary=True) as cur:
            await cur.execute(statement)
            return [(bytes(data), int(xid)) for data, xid in await cur.fetchall()]

    async def _advance(self, lsn: int) -> None:
        async with self._advancing:
            if lsn <= self._confirmed:
                return
            self._advanced_at = time.monotonic()
            end = await self._scalar(q.ADVANCE, {"slot": self.slot, "lsn": pgoutput.lsn_text(lsn)})
            self._confirmed = max(self._confirmed, pgoutput.parse_lsn(end))
            self._assembler.forget_commit_starts(self._confirmed)

    async def _close_cursor(self) -> None:
        self._rows.clear()
        if self._cursor_open:
            self._cursor_open = False
            await self._conn.execute(sql.SQL(q.CLOSE).format(cursor=CURSOR))

    async def _scalar(self, query: str, params: Mapping[str, object] | None = None) -> str:
        async with self._conn.cursor() as cur:
            await cur.execute(query, params)
            row = await cur.fetchone()
        assert row is not None
        return str(row[0])


def _number(value: int) -> sql.SQL:
    """A row count or position written into FETCH / MOVE (they take no parameters)."""
    return sql.SQL(str(int(value)))


def slot_details(slot: str, publication: str, row: Mapping[str, Any] | None) -> dict[str, str]:
    """What status.replication shows of the slot (no secrets)."""
    if row is None:
        return {"slotName": slot, "publication": publication, "slotExists": "false"}
    out = {
        "slotName": slot,
        "publication": publication,
        "walStatus": str(row["wal_status"] or ""),
        "active": "true" if row["active"] else "false",
        "confirmedFlushLsn": str(row["confirmed_flush_lsn"] or ""),
    }
    if row["safe_wal_size"] is not None:
        out["safeWalSize"] = str(row["safe_wal_size"])
    if row["retained_bytes"] is not None:
        out["retainedBytes"] = str(row["retained_bytes"])
    return out
