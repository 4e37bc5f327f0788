"""The follower pod's contract with the operator: what it writes into status.replication and
its exit codes (0 cut over, 1 failed, 3 source schema changed, 143 SIGTERM)."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
from typing import Any

import pytest

from ferry.api.migration import ReplicationStatus
from ferry.cdc.changes import AppliedPosition, Position, SourceSchemaChanged
from ferry.cdc.follower import FollowOutcome, FollowResult
from ferry.cdc.native_apply import NativeApplyUnavailable
from ferry.cdc.progress import FollowState, ReplicationProgress
from ferry.copy.sessions import SessionLedger
from ferry.worker import follow
from ferry.worker.setup import WorkerEnv

ENV = WorkerEnv("shop", "team-a", "uid-1", 0, 1)


def result(outcome: FollowOutcome) -> FollowResult:
    return FollowResult(outcome, AppliedPosition(Position(0x300, text="0/300")), 0)


def progress(state: FollowState = FollowState.FOLLOWING, **extra: Any) -> ReplicationProgress:
    fields: dict[str, Any] = {
        "state": state,
        "start_position": "0/100",
        "source_position": "0/300",
        "applied_position": "0/200",
        "lag_seconds": 0.12345,
        "lag_bytes": 256,
        "changes_applied": 42,
        "changes_per_second": 12.345,
        "last_applied_time": "2026-11-29T12:00:00Z",
        "details": {"slot": "ferry_uid1", "wal_status": "reserved"},
    }
    return ReplicationProgress(**(fields | extra))


def test_the_entry_holds_the_followers_keys_only() -> None:
    entry = follow.replication_entry(progress())
    assert "startPosition" not in entry and "healthCheckedAt" not in entry  # the operator's
    assert entry["state"] == "Following" and entry["appliedPosition"] == "0/200"
    assert entry["lagSeconds"] == 0.123 and entry["changesPerSecond"] == 12.3
    assert entry["details"] == {"slot": "ferry_uid1", "wal_status": "reserved"}
    assert entry["message"] is None  # a merge patch clears an old failure message
    assert ReplicationStatus.model_validate(entry).changes_applied == 42


def test_a_native_entry_clears_the_counts_postgresql_does_not_keep() -> None:
    native = progress(
        changes_applied=None, changes_per_second=None, last_applied_time=None, apply_method="native"
    )
    entry = follow.replication_entry(native)
    assert entry["applyMethod"] == "native"
    # null in the merge patch: the counts of Ferry's applier (before the hand-off) do not linger
    assert entry["changesApplied"] is None and entry["changesPerSecond"] is None
    assert entry["applyMethodReason"] is None
    ferry = follow.replication_entry(progress(apply_method_reason="table public.items: column a is renamed"))
    assert ferry["applyMethod"] == "ferry"
    assert ferry["applyMethodReason"] == "table public.items: column a is renamed"
    assert ferry["changesApplied"] == 42


def test_the_entry_carries_the_sessions_held_and_the_pod(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FERRY_POD_NAME", "shop-follow-1-abcde")
    ledger = SessionLedger()
    held, closed = sqlite3.connect(":memory:"), sqlite3.connect(":memory:")
    ledger.track("source", held)
    ledger.track("target", closed)
    closed.close()
    ledger.reconnected(("source",))
    entry = follow.replication_entry(progress(), sessions=ledger)
    assert entry["pod"] == "shop-follow-1-abcde"
    assert entry["sessions"] == {"source": 1, "target": 0, "sourceReconnects": 1, "targetReconnects": 0}
    held.close()
    assert follow.replication_entry(None, "Failed", "x", ledger)["sessions"]["source"] == 0


def test_a_final_entry_without_progress_still_says_how_it_ended() -> None:
    entry = follow.replication_entry(None, "SourceSchemaChanged", "table public.orders: column note added")
    assert entry["state"] == "SourceSchemaChanged"
    assert entry["message"] == "table public.orders: column note added"


class Harness:
    """The pod around `follow_changes`: no API server, no database."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.patches: list[dict[str, Any]] = []
        inputs: Any = type(
            "Inputs", (), {"api": None, "spec": None, "source": None, "target": None, "plan_hash": ""}
        )()
        monkeypatch.setattr(follow, "load_inputs", lambda env: inputs)
        monkeypatch.setattr(follow, "source_mappings", lambda *args: [])
        monkeypatch.setattr(
            follow.ReplicationReporter, "patch", lambda _self, entry: self.patches.append(entry)
        )
        monkeypatch.delenv("FERRY_SELECTION_HASH", raising=False)
        monkeypatch.delenv("FERRY_PLAN_HASH", raising=False)
        self.monkeypatch = monkeypatch

    def follower(self, body: Any) -> None:
        self.monkeypatch.setattr(follow, "follow_changes", body)

    @property
    def last(self) -> dict[str, Any]:
        return self.patches[-1]


def test_cutover_reached_exits_0(monkeypatch: pytest.MonkeyPatch) -> None:
    pod = Harness(monkeypatch)

    async def body(
        inputs: Any, mappings: Any, uid: str, report: Any, should_stop: Any, sessions: Any
    ) -> FollowResult:
        report(progress(FollowState.CUT_OVER, cutover_position="0/300"))
        return result(FollowOutcome.CUT_OVER)

    pod.follower(body)
    assert follow.run_follower(ENV) == 0
    assert pod.last["state"] == "CutOver" and pod.last["cutoverPosition"] == "0/300"


def test_a_changed_source_table_exits_3_and_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    pod = Harness(monkeypatch)

    async def body(
        inputs: Any, mappings: Any, uid: str, report: Any, should_stop: Any, sessions: Any
    ) -> None:
        report(progress())
        raise SourceSchemaChanged("public.orders", "column note added")

    pod.follower(body)
    assert follow.run_follower(ENV) == 3
    assert pod.last["state"] == "SourceSchemaChanged"
    assert pod.last["message"] == "table public.orders: column note added"
    assert pod.last["appliedPosition"] == "0/200"  # how far it got stays visible


def test_native_apply_that_cannot_run_exits_4_and_says_why(monkeypatch: pytest.MonkeyPatch) -> None:
    pod = Harness(monkeypatch)

    async def body(
        inputs: Any, mappings: Any, uid: str, report: Any, should_stop: Any, sessions: Any
    ) -> None:
        raise NativeApplyUnavailable(
            "spec.online.apply is native, but the target's user may not CREATE SUBSCRIPTION"
        )

    pod.follower(body)
    assert follow.run_follower(ENV) == 4
    assert pod.last["state"] == "NativeApplyUnavailable"
    assert "may not CREATE SUBSCRIPTION" in pod.last["message"]


def test_an_error_exits_1_with_its_first_line(monkeypatch: pytest.MonkeyPatch) -> None:
    pod = Harness(monkeypatch)

    async def body(
        inputs: Any, mappings: Any, uid: str, report: Any, should_stop: Any, sessions: Any
    ) -> None:
        raise ConnectionError("target went away\nDETAIL: more")

    pod.follower(body)
    assert follow.run_follower(ENV) == 1
    assert pod.last["state"] == "Failed" and pod.last["message"] == "ConnectionError: target went away"


def test_sigterm_stops_between_batches_and_exits_143(monkeypatch: pytest.MonkeyPatch) -> None:
    pod = Harness(monkeypatch)
    batches = []

    async def body(
        inputs: Any, mappings: Any, uid: str, report: Any, should_stop: Any, sessions: Any
    ) -> FollowResult:
        while not await should_stop():
            batches.append(1)
            report(progress(changes_applied=len(batches)))
            if len(batches) == 3:
                os.kill(os.getpid(), signal.SIGTERM)  # the loop's handler only sets the flag
            await asyncio.sleep(0.01)
        return result(FollowOutcome.STOPPED)

    pod.follower(body)
    previous = signal.getsignal(signal.SIGTERM)
    try:
        assert follow.run_follower(ENV) == 143
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert pod.last["state"] == "Stopped" and 3 <= pod.last["changesApplied"] <= 4


def test_progress_is_patched_from_the_heartbeat(monkeypatch: pytest.MonkeyPatch) -> None:
    pod = Harness(monkeypatch)
    reporter = follow.ReplicationReporter(None, "team-a", "shop")

    async def scenario() -> None:
        finished = asyncio.Event()
        beat = asyncio.create_task(reporter.heartbeat(finished, interval=0.01))
        reporter(progress(changes_applied=1))
        await asyncio.sleep(0.05)
        reporter(progress(changes_applied=2))
        await asyncio.sleep(0.05)
        finished.set()
        await beat

    asyncio.run(scenario())
    assert [p["changesApplied"] for p in pod.patches] == [1, 2]  # each progress once


def test_the_entry_carries_the_followers_cpu_time() -> None:
    entry = follow.replication_entry(progress())
    assert entry["cpuSeconds"] > 0  # this process's user + system time, as copy workers report it
    assert ReplicationStatus.model_validate(entry).cpu_seconds == entry["cpuSeconds"]
