"""What a change source hands the follower: source transactions of row changes, in commit order.

The contract between the capture of each engine (`ferry.cdc.pg_capture`,
`ferry.cdc.mysql_capture`) and the apply side (`ferry.cdc.apply_pg`, `ferry.cdc.follower`).

Values are what the initial copy would have read for the same column, so the copy's
projection (fixes, transforms, renames, type mappings: `ferry.copy.projection`) applies to
them unchanged: PostgreSQL text forms from a PostgreSQL source (what `col::text` gives; a
bytea column as its text form `\\x…`), the driver's Python values from MariaDB/MySQL. A column
PostgreSQL did not send because its TOASTed value did not change is `UNCHANGED`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum, StrEnum
from typing import Final, Literal, Protocol


class ChangeKind(StrEnum):
    INSERT = "insert"
    UPDATE = "update"
    DELETE = "delete"
    TRUNCATE = "truncate"


class _Unchanged(Enum):
    UNCHANGED = "unchanged"

    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED: Final = _Unchanged.UNCHANGED
"""An unchanged TOASTed value PostgreSQL did not send in an update (pgoutput's 'u')."""

Value = object  # a column value as the copy reads it, None for NULL, or UNCHANGED


@dataclass(frozen=True, order=True)
class Position:
    """A point in the source's change history, ordered like the source orders commits.

    PostgreSQL: `major` is an LSN as an integer (`minor` 0), `text` like `0/16B3748`.
    MariaDB/MySQL: `major` is the binlog file's sequence number, `minor` the byte position in
    it, `text` like `binlog.000003:1234`.
    """

    major: int
    minor: int = 0
    text: str = field(default="", compare=False)

    def __str__(self) -> str:
        return self.text or f"{self.major}:{self.minor}"


@dataclass(frozen=True)
class RowChange:
    """One row change. `table` is the source table as (schema or None, name).

    `new`: the row after an insert or update, by source column name (every column of the
    table, UNCHANGED for a TOAST value not sent). `old`: the row before an update or delete,
    by source column name; at least the key columns (PostgreSQL's default replica identity
    sends only those), None for an update that did not change the key and sent no old row.
    A TRUNCATE has neither.
    """

    table: tuple[str | None, str]
    kind: ChangeKind
    new: Mapping[str, Value] | None = None
    old: Mapping[str, Value] | None = None


@dataclass(frozen=True)
class SourceTransaction:
    """Changes of one source transaction, or a chunk of a large one, in source order.

    `position`: where the transaction commits (its commit record's end: every transaction
    committed at or before it is in the stream before this one). A large transaction may be
    handed over in chunks with the same position: `first_index` is the index of `changes[0]`
    within the transaction and `last_chunk` tells whether the transaction ends with it.
    """

    position: Position
    commit_time: datetime | None
    changes: Sequence[RowChange]
    first_index: int = 0
    last_chunk: bool = True


@dataclass(frozen=True, order=True)
class AppliedPosition:
    """How far the target has applied: every change of transactions before `position`, and of
    the transaction at `position` the first `index` changes (`complete`: all of it)."""

    position: Position
    index: int = 0
    complete: bool = True

    def covers(self, txn_position: Position, change_index: int) -> bool:
        """True when the change `change_index` of the transaction at `txn_position` is applied."""
        if txn_position < self.position:
            return True
        if txn_position > self.position:
            return False
        return self.complete or change_index < self.index


class SourceSchemaChanged(Exception):
    """The source changed the structure of a followed table (a relation message or binlog table
    map that differs from the plan). Never applied silently: the Migration stalls and names it."""

    def __init__(self, table: str, change: str) -> None:
        super().__init__(f"table {table}: {change}")
        self.table = table
        self.change = change


@dataclass(frozen=True)
class SourceLag:
    """The source's side of the lag: its current position, and how many bytes of change
    history lie between it and what was applied (None where the engine cannot tell)."""

    current: Position
    bytes_behind: int | None


CaptureKind = Literal["pgoutput", "binlog"]


class ChangeSource(Protocol):
    """A stream of committed source transactions after a position, in commit order."""

    kind: CaptureKind

    async def read(
        self, after: AppliedPosition, max_changes: int, wait_seconds: float
    ) -> list[SourceTransaction]:
        """Transactions (or chunks) not yet covered by `after`, up to about `max_changes`
        changes; waits up to `wait_seconds` for the first one, and returns [] when none came.
        Raises SourceSchemaChanged when a followed table's structure changed."""
        ...

    async def confirm(self, applied: AppliedPosition) -> None:
        """The target committed everything up to `applied`: the source may release it
        (PostgreSQL advances the slot). Never called with a position not yet committed."""
        ...

    async def lag(self, applied: AppliedPosition) -> SourceLag: ...

    async def details(self) -> Mapping[str, str]:
        """What status.replication shows about the capture: slot name, wal_status,
        safe_wal_size / binlog file, server id ... (no secrets)."""
        ...

    async def close(self) -> None: ...
