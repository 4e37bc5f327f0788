"""The session ledger on SQLite files (no server needed): what a wrapped endpoint opens is counted
until it is closed, per side; and which side a failed unit lost."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from types import SimpleNamespace

from ferry.copy.endpoints import Endpoints, SQLiteEndpoint
from ferry.copy.sessions import SessionLedger, lost_sides


def _endpoint(path: Path) -> SQLiteEndpoint:
    return SQLiteEndpoint(lambda: sqlite3.connect(path, check_same_thread=False))


def test_open_sessions_are_counted_per_side_until_closed(tmp_path: Path) -> None:
    ledger = SessionLedger()
    endpoints = ledger.endpoints(Endpoints(_endpoint(tmp_path / "a.db"), _endpoint(tmp_path / "b.db")))
    assert isinstance(endpoints.source, SQLiteEndpoint) and isinstance(endpoints.target, SQLiteEndpoint)
    first, second, target = endpoints.source.connect(), endpoints.source.connect(), endpoints.target.connect()
    assert (ledger.open_sessions("source"), ledger.open_sessions("target")) == (2, 1)
    first.close()
    assert (ledger.open_sessions("source"), ledger.open_sessions("target")) == (1, 1)
    second.close()
    target.close()
    assert (ledger.open_sessions("source"), ledger.open_sessions("target")) == (0, 0)
    ledger.reconnected(["source"])
    ledger.reconnected(["source", "target"])
    assert (ledger.reconnects("source"), ledger.reconnects("target")) == (2, 1)


def test_the_lost_side_is_the_one_that_failed_to_connect_or_whose_session_closed(tmp_path: Path) -> None:
    def opened() -> SimpleNamespace:
        return SimpleNamespace(conn=sqlite3.connect(tmp_path / "x.db"))

    assert lost_sides(None, (None, None)) == ("target",)  # the target opens first
    assert lost_sides(opened(), (None, None)) == ("source",)
    source, bounds, target = opened(), opened(), opened()
    bounds.conn.close()
    assert lost_sides(target, (source, bounds)) == ("source",)
    target.conn.close()
    assert lost_sides(target, (source, None)) == ("target",)
    # Nothing tells which: both sides are counted.
    assert lost_sides(opened(), (opened(), None)) == ("source", "target")
