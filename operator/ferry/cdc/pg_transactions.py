"""From decoded pgoutput messages to source transactions: relations, schema checks, row changes,
chunks. Pure: `ferry.cdc.pg_change_source` feeds it the messages it reads and does all I/O.

Positions. A transaction's position is its commit record's end (Commit.end_lsn). A large
transaction is handed over in chunks before its Commit has been read, so when a chunk is full
while the end is still unknown the assembler says so (`wants_position`) and the reader looks the
Commit up ahead in its cursor (`position_found`).

Skipping what is applied. `mark` is the applied position the reader was asked to continue from,
moved forward as chunks are handed over; a change it covers is dropped. Before the end of a
transaction is known, its Begin tells where its commit record starts (`final_lsn`): commit records
do not overlap, so a transaction whose commit starts before a mark that is a commit end (or the
slot's start) commits at or before that mark. Such a transaction is skipped without buffering when
the mark covers all of it; when the mark stops inside a transaction, only its first `mark.index`
changes are surely covered, the rest waits for the position.

Schema checks. The tables are followed by OID (stable across ALTER TABLE and renames). Each
Relation message of a followed table is compared with the table's published columns as they were
when the capture started (`FollowedTable.columns`, recorded by `ferry.cdc.pg_capture.start`):
Relation messages describe the table at their point in the change history, all of it after the
start, so any difference is a change made since, and it is found again after a restart.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from ferry.cdc import pgoutput
from ferry.cdc.changes import (
    AppliedPosition,
    ChangeKind,
    Position,
    RowChange,
    SourceSchemaChanged,
    SourceTransaction,
)


@dataclass(frozen=True)
class CatalogColumn:
    name: str
    type_oid: int
    type_modifier: int


@dataclass(frozen=True)
class FollowedTable:
    """One source table of the mappings and its published columns when the capture started."""

    oid: int
    table: tuple[str | None, str]  # RowChange.table: the mapping's source schema and name
    label: str  # how messages name it: the mapping's qualified source name
    namespace: str
    name: str
    columns: tuple[CatalogColumn, ...]  # published columns (not dropped, not generated), in order


def position(lsn: int) -> Position:
    return Position(lsn, 0, pgoutput.lsn_text(lsn))


def relation_change(table: FollowedTable, relation: pgoutput.Relation) -> str | None:
    """How a Relation message differs from the table's columns at the start; None when it does not."""
    if (relation.namespace, relation.name) != (table.namespace, table.name):
        return f"renamed ({relation.namespace}.{relation.name} in the change stream)"
    seen = tuple(CatalogColumn(c.name, c.type_oid, c.type_modifier) for c in relation.columns)
    if seen == table.columns:
        return None
    return column_differences(table.columns, seen)


def column_differences(older: Sequence[CatalogColumn], newer: Sequence[CatalogColumn]) -> str:
    """'column x added', 'column y dropped', 'column z type changed', joined by ', '."""
    old = {c.name: c for c in older}
    new = {c.name: c for c in newer}
    found = [f"column {c.name} added" for c in newer if c.name not in old]
    found += [f"column {c.name} dropped" for c in older if c.name not in new]
    found += [
        f"column {c.name} type changed"
        for c in newer
        if c.name in old
        and (old[c.name].type_oid, old[c.name].type_modifier) != (c.type_oid, c.type_modifier)
    ]
    return ", ".join(found) or "columns reordered"


def row_change(
    table: FollowedTable,
    relation: pgoutput.Relation,
    message: pgoutput.Insert | pgoutput.Update | pgoutput.Delete,
) -> RowChange:
    """One row change as plain data: values by source column name."""
    if type(message) is pgoutput.Insert:
        return RowChange(table.table, ChangeKind.INSERT, new=pgoutput.row_values(relation, message.new))
    if type(message) is pgoutput.Update:
        return RowChange(
            table.table,
            ChangeKind.UPDATE,
            new=pgoutput.row_values(relation, message.new),
            old=_old(relation, message.old_kind, message.old),
        )
    assert type(message) is pgoutput.Delete
    return RowChange(table.table, ChangeKind.DELETE, old=_old(relation, message.old_kind, message.old))


def _old(
    relation: pgoutput.Relation, kind: str | None, values: Sequence[object] | None
) -> dict[str, object] | None:
    if kind is None or values is None:
        return None
    if kind == "K":
        return pgoutput.key_values(relation, values)
    return pgoutput.row_values(relation, values)


_ROW_MESSAGES: Final = (pgoutput.Insert, pgoutput.Update, pgoutput.Delete)
ALL: Final = 1 << 62  # an index past the end of any transaction


@dataclass(slots=True)
class _Open:
    """The transaction being read."""

    final_lsn: int
    commit_time: datetime
    xid: int
    covered_below: int  # changes with a lower index are applied already (ALL: every one)
    unsure: bool  # the end is unknown and `mark` may cover more than `covered_below`
    end_lsn: int | None = None
    next_index: int = 0  # index of the next change of the transaction
    first_index: int = 0  # index of buffer[0]
    buffer: list[RowChange] = field(default_factory=list)
    handed_over: bool = False  # a chunk of it went out


@dataclass
class TransactionAssembler:
    """Messages in, SourceTransactions (or chunks of at most `chunk_size` changes) out."""

    tables: Mapping[int, FollowedTable]  # by relation OID
    mark: AppliedPosition
    chunk_size: int = 5000
    relations: dict[int, pgoutput.Relation] = field(default_factory=dict)
    _open: _Open | None = None
    # Commit starts of transactions handed over in chunks, by their end: an applied position in
    # the middle of one lets the slot advance to just before it.
    commit_starts: dict[int, int] = field(default_factory=dict)

    def reset(self, mark: AppliedPosition) -> None:
        """Continue from `mark`: what the reader reads next starts a new cursor."""
        self.mark = mark
        self._open = None

    @property
    def in_transaction(self) -> bool:
        return self._open is not None

    @property
    def open_xid(self) -> int | None:
        return None if self._open is None else self._open.xid

    @property
    def skipping(self) -> bool:
        """The open transaction is applied already, all of it: its changes need no decoding."""
        return self._open is not None and self._open.covered_below == ALL

    @property
    def wants_position(self) -> bool:
        """A chunk is full and the transaction's end is not known yet: look its Commit up."""
        txn = self._open
        return txn is not None and txn.end_lsn is None and len(txn.buffer) > self.chunk_size

    def feed(self, message: pgoutput.Message) -> SourceTransaction | None:
        """Take one message; returns a transaction or chunk when one is complete."""
        if isinstance(message, _ROW_MESSAGES):  # first: nearly every message is one
            table = self.tables.get(message.relation_oid)
            if table is not None and self._next_kept():
                relation = self._relation_of(message.relation_oid)
                self._require_open().buffer.append(row_change(table, relation, message))
                return self._chunk_if_full()
            return None
        if isinstance(message, pgoutput.Begin):
            if self._open is not None:
                raise pgoutput.ProtocolError("Begin inside a transaction")
            covered, unsure = self._covered_before_end(message.final_lsn)
            self._open = _Open(message.final_lsn, message.commit_time, message.xid, covered, unsure)
            return None
        if isinstance(message, pgoutput.Commit):
            return self._commit(message)
        if isinstance(message, pgoutput.Relation):
            self._relation(message)
            return None
        if isinstance(message, pgoutput.Truncate):
            for oid in message.relation_oids:
                table = self.tables.get(oid)
                if table is not None and self._next_kept():
                    self._require_open().buffer.append(RowChange(table.table, ChangeKind.TRUNCATE))
            return self._chunk_if_full()
        return None  # Origin, Type, logical decoding messages: nothing to apply

    def position_found(self, end_lsn: int) -> SourceTransaction | None:
        """The end of the open transaction, looked up ahead; returns the chunk that waited for it."""
        self._set_end(self._require_open(), end_lsn)
        return self._chunk_if_full()

    def _covered_before_end(self, final_lsn: int) -> tuple[int, bool]:
        """(changes surely covered, whether more may be) of a transaction whose commit record
        starts at `final_lsn`, before its end is known (see the module docstring)."""
        mark = self.mark
        if final_lsn >= mark.position.major:
            return 0, False
        if mark.complete:
            return ALL, False
        return mark.index, True

    def _set_end(self, txn: _Open, end_lsn: int) -> None:
        txn.end_lsn = end_lsn
        if not txn.unsure:
            return
        txn.unsure = False
        mark = self.mark
        at = end_lsn - mark.position.major
        txn.covered_below = ALL if at < 0 or (at == 0 and mark.complete) else (mark.index if at == 0 else 0)
        drop = txn.covered_below - txn.first_index
        if drop > 0 and txn.buffer:
            del txn.buffer[:drop]
            txn.first_index = min(txn.covered_below, txn.next_index)

    def _next_kept(self) -> bool:
        """Count the next change of the open transaction; whether it is kept (not covered)."""
        txn = self._require_open()
        index = txn.next_index
        txn.next_index = index + 1
        if index < txn.covered_below:
            return False
        if not txn.buffer:
            txn.first_index = index
        return True

    def _relation(self, relation: pgoutput.Relation) -> None:
        self.relations[relation.oid] = relation
        table = self.tables.get(relation.oid)
        if table is None:
            return
        change = relation_change(table, relation)
        if change is not None:
            raise SourceSchemaChanged(table.label, change)

    def _relation_of(self, oid: int) -> pgoutput.Relation:
        relation = self.relations.get(oid)
        if relation is None:
            raise pgoutput.ProtocolError(f"a change of relation {oid} before its Relation message")
        return relation

    def _chunk_if_full(self) -> SourceTransaction | None:
        """A chunk of `chunk_size` changes once one more is buffered: the last chunk of a
        transaction is then never empty."""
        txn = self._open
        if txn is None or txn.end_lsn is None or len(txn.buffer) <= self.chunk_size:
            return None
        return self._hand_over(txn, last=False)

    def _commit(self, commit: pgoutput.Commit) -> SourceTransaction | None:
        txn = self._require_open()
        if commit.commit_lsn != txn.final_lsn:
            raise pgoutput.ProtocolError("Commit of another transaction than the one begun")
        if txn.end_lsn is None:
            self._set_end(txn, commit.end_lsn)
        elif txn.end_lsn != commit.end_lsn:
            raise pgoutput.ProtocolError("the Commit found ahead and the Commit read differ")
        self._open = None
        if not txn.buffer and not txn.handed_over:
            return None  # nothing followed, or all of it applied already
        return self._hand_over(txn, last=True)

    def _hand_over(self, txn: _Open, last: bool) -> SourceTransaction:
        assert txn.end_lsn is not None
        at = position(txn.end_lsn)
        size = len(txn.buffer) if last else self.chunk_size
        chunk = SourceTransaction(at, txn.commit_time, tuple(txn.buffer[:size]), txn.first_index, last)
        txn.first_index += size
        del txn.buffer[:size]
        txn.handed_over = True
        self.mark = AppliedPosition(at, txn.first_index, complete=last)
        if not last or txn.end_lsn in self.commit_starts:
            self.commit_starts[txn.end_lsn] = txn.final_lsn
        return chunk

    def forget_commit_starts(self, upto_lsn: int) -> None:
        """The slot has passed `upto_lsn`: transactions ending there or before are done with."""
        for end in [e for e in self.commit_starts if e <= upto_lsn]:
            del self.commit_starts[end]

    def _require_open(self) -> _Open:
        if self._open is None:
            raise pgoutput.ProtocolError("a change outside a transaction")
        return self._open
