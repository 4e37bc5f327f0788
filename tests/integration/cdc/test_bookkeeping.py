"""The replication bookkeeping row on a real target: start, cutover request, outcome, forget."""

from __future__ import annotations

import pytest

from ferry.cdc import bookkeeping
from ferry.cdc.bookkeeping import NotStarted, Outcome
from ferry.cdc.changes import AppliedPosition, Position
from harness.databases import Database
from integration.cdc.helpers import side


def test_the_start_is_recorded_once_and_is_the_first_applied_position(pg_db: Database) -> None:
    target = side(pg_db)
    assert bookkeeping.read(target, "uid-1") is None  # no table yet
    first = bookkeeping.record_start(target, "uid-1", Position(0x16B3748, 0, "0/16B3748"))
    again = bookkeeping.record_start(target, "uid-1", Position(0x2000000, 0, "0/2000000"))
    assert again == first
    assert first.start == Position(0x16B3748) and str(first.start) == "0/16B3748"
    assert first.applied == AppliedPosition(Position(0x16B3748), 0, True)
    assert first.state == "CatchingUp" and first.cutover_requested_at is None and not first.ended
    assert bookkeeping.read(target, "uid-2") is None


def test_a_cutover_request_keeps_its_first_time_and_needs_a_started_migration(pg_db: Database) -> None:
    target = side(pg_db)
    with pytest.raises(NotStarted):
        bookkeeping.request_cutover(target, "uid-1", 5)
    bookkeeping.record_start(target, "uid-1", Position(3, 1200, "binlog.000003:1200"))
    first = bookkeeping.request_cutover(target, "uid-1", 5)
    second = bookkeeping.request_cutover(target, "uid-1", 30)
    assert first.cutover_requested_at is not None
    assert second.cutover_requested_at == first.cutover_requested_at and second.cutover_max_lag_seconds == 30
    assert second.start == Position(3, 1200)


def test_the_outcome_ends_it_and_forget_removes_it(pg_db: Database) -> None:
    target = side(pg_db)
    bookkeeping.record_start(target, "uid-1", Position(1))
    bookkeeping.record_outcome(target, "uid-1", Outcome.FAILED, "validation: 1 of 2 tables differ")
    record = bookkeeping.read(target, "uid-1")
    assert record is not None and record.ended and record.message == "validation: 1 of 2 tables differ"
    bookkeeping.forget(target, "uid-1")
    assert bookkeeping.read(target, "uid-1") is None
    bookkeeping.forget(target, "uid-1")  # idempotent
