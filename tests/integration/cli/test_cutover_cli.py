"""`ferry cutover` against the bookkeeping row alone: the outcomes it reports and its timeout."""

from __future__ import annotations

from pathlib import Path

import pytest

from ferry.cdc import bookkeeping
from ferry.cdc.bookkeeping import Outcome
from ferry.cdc.changes import Position
from harness.databases import Database
from integration.cdc.helpers import side
from integration.cli.online_bundle import ferry, write_bundle

UID = "local/shop"


@pytest.fixture
def bundle(pg_db: Database, pg_db2: Database, tmp_path: Path) -> Path:
    # No source password in the environment: the cutover only talks to the target.
    return write_bundle(tmp_path, pg_db, pg_db2)


def test_no_outcome_in_time_is_a_failure_and_the_request_stays(
    bundle: Path, pg_db2: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    bookkeeping.record_start(side(pg_db2), UID, Position(100, 0, "0/64"))
    assert ferry("cutover", bundle, "--timeout", "1.5") == 1
    assert "no outcome after 2 s (CatchingUp: applied up to 0/64, 0 changes)" in capsys.readouterr().err
    record = bookkeeping.read(side(pg_db2), UID)
    assert (
        record is not None and record.cutover_requested_at is not None and record.cutover_max_lag_seconds == 5
    )


def test_the_outcome_of_the_last_run_is_reported(
    bundle: Path, pg_db2: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    target = side(pg_db2)
    bookkeeping.record_start(target, UID, Position(100, 0, "0/64"))
    bookkeeping.record_outcome(target, UID, Outcome.FAILED, "1 of 2 tables differ")
    assert ferry("cutover", bundle) == 1
    assert "the cutover of Migration shop failed: 1 of 2 tables differ" in capsys.readouterr().err

    bookkeeping.record_outcome(target, UID, Outcome.SUCCEEDED, "2 tables, 10 rows copied; row counts match")
    assert ferry("cutover", bundle) == 0
    out = capsys.readouterr().out
    assert out.startswith("Migration shop cut over") and "10 rows copied" in out


def test_an_offline_migration_has_no_cutover(
    pg_db: Database, pg_db2: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_bundle(tmp_path, pg_db, pg_db2)
    path.write_text(path.read_text().replace("mode: online", "mode: offline"))
    assert ferry("cutover", path) == 2
    assert "is not online (spec.mode: offline)" in capsys.readouterr().err
