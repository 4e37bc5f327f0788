"""What a batch carries from a source to a target, and the checkpoint it starts from.

A batch is either raw COPY bytes (PostgreSQL to PostgreSQL pass-through, never decoded;
CSV lines formatted by a MySQL/MariaDB source) or rows of Python values in chunks. Both
are async iterators that *raise* when the source fails, so the target aborts its
transaction instead of committing part of a batch with an advanced checkpoint (the trap
in copy-speed.md).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Literal

Row = Sequence[object]


@dataclass
class CopyBytes:
    chunks: AsyncIterator[bytes]
    format: Literal["binary", "text", "csv"]


@dataclass
class RowChunks:
    chunks: AsyncIterator[Sequence[Row]]


Payload = CopyBytes | RowChunks


@dataclass(frozen=True)
class Checkpoint:
    last_key: str | None  # JSON of the last committed key (ferry.copy.keys); None before the first batch
    rows_copied: int
    done: bool


@dataclass(frozen=True)
class BatchWrite:
    """Where the batch ends: the checkpoint the target commits together with the rows."""

    migration_uid: str
    unit_id: str
    expected_last_key: str | None  # the checkpoint this batch continues; another value means another writer
    new_last_key: str | None
    done: bool


class SourceError(Exception):
    """The source failed while a batch was being read; the batch is rolled back on the target."""


class ConcurrentWriter(Exception):
    """The unit's checkpoint moved under us: another worker is copying the same unit."""
