"""The follower on a real target with a scripted source: exactly once across failures injected
at every point of a batch, the cutover, stopping, and a schema change on the source."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from ferry.cdc import bookkeeping
from ferry.cdc.changes import (
    UNCHANGED,
    AppliedPosition,
    Position,
    RowChange,
    SourceSchemaChanged,
    SourceTransaction,
)
from ferry.cdc.follower import FollowOutcome, FollowResult, FollowSettings, follow
from ferry.cdc.progress import FollowState, ReplicationProgress
from harness.databases import Database
from integration.cdc.helpers import (
    ScriptedSource,
    delete,
    insert,
    pg_query,
    side,
    stored_position,
    txn,
    update,
)
from integration.copy.helpers import pg_endpoint, pg_exec, table_mapping

UID = "test/follow"
ITEMS = table_mapping(
    "items", [("id", "integer"), ("name", "text"), ("note", "text"), ("n", "integer")],
    source_schema="public", not_null=("id",),
)  # fmt: skip
FAST = FollowSettings(max_changes=25, wait_seconds=0.05, report_seconds=0, poll_seconds=0, details_seconds=0)
Row = tuple[str | None, str | None, int | None]


@dataclass
class Workload:
    """Random source transactions over 40 keys and the rows they leave (a model replayed in Python)."""

    initial: dict[int, Row]
    transactions: list[SourceTransaction]
    final: dict[int, Row]

    @property
    def changes(self) -> int:
        return sum(len(t.changes) for t in self.transactions)


def workload(seed: int = 7, count: int = 150, big_at: int = 60, boom_at: int | None = None) -> Workload:
    rnd = random.Random(seed)
    rows: dict[int, Row] = {k: (f"init {k}", f"note {k}", k) for k in range(1, 11)}
    initial = dict(rows)
    start = datetime.now(UTC) - timedelta(seconds=count)
    transactions = []
    for t in range(count):
        changes: list[RowChange] = []
        for _ in range(60 if t == big_at else rnd.randint(1, 6)):
            key = rnd.randint(1, 40)
            name = "boom" if t == boom_at else f"v{t}.{len(changes)}"
            if key not in rows:
                rows[key] = (name, f"note {t}", t)
                changes.append(insert(key, name=name, note=f"note {t}", n=str(t)))
            elif (roll := rnd.random()) < 0.2:
                del rows[key]
                changes.append(delete(key))
            elif roll < 0.5:  # the note is TOASTed and unchanged: not sent
                rows[key] = (name, rows[key][1], t)
                changes.append(update(key, name=name, note=UNCHANGED, n=str(t)))
            elif roll < 0.6 and (moved := rnd.randint(41, 80)) not in rows:
                rows[moved] = (name, rows.pop(key)[1], t)
                changes.append(update(moved, old_key=key, name=name, note=UNCHANGED, n=str(t)))
            else:
                rows[key] = (name, f"note {t}", None)
                changes.append(update(key, name=name, note=f"note {t}", n=None))
        transactions.append(txn(1000 + t * 10, *changes, at=start + timedelta(seconds=t)))
    return Workload(initial, transactions, rows)


def _load(db: Database, initial: dict[int, Row]) -> None:
    pg_exec(db, "CREATE TABLE items (id integer PRIMARY KEY, name text, note text, n integer)")
    for key, (name, note, n) in initial.items():
        pg_exec(db, f"INSERT INTO items VALUES ({key}, '{name}', '{note}', {n})")
    bookkeeping.record_start(side(db), UID, Position(999, 0, "0/3E7"))


def _rows(db: Database) -> dict[int, Row]:
    return {r[0]: (r[1], r[2], r[3]) for r in pg_query(db, "SELECT id, name, note, n FROM items ORDER BY id")}


async def _follow(
    db: Database,
    source: ScriptedSource,
    *,
    position: Callable[[], Position] = lambda: Position(10**9),
    report: Callable[[ReplicationProgress], None] = lambda p: None,
    settings: FollowSettings = FAST,
    stop_after_reads: int | None = None,
) -> FollowResult:
    async def should_stop() -> bool:
        return stop_after_reads is not None and len(source.reads) >= stop_after_reads

    source.target, source.uid = db, UID
    return await follow(
        source, pg_endpoint(db), [ITEMS], migration_uid=UID, source_dialect="postgresql", secrets=None,
        source_position=position, report=report, should_stop=should_stop, settings=settings,
    )  # fmt: skip


class Injected(Exception):
    pass


async def test_exactly_once_across_failures_at_every_point_of_a_batch(pg_db: Database) -> None:
    work = workload(boom_at=110)
    _load(pg_db, work.initial)
    pg_exec(
        pg_db,
        "CREATE TABLE armed (yes boolean)",
        "INSERT INTO armed VALUES (true)",
        "CREATE FUNCTION boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF NEW.name = 'boom' AND (SELECT yes FROM armed) THEN "
        "RAISE EXCEPTION 'injected in a batch'; END IF; RETURN NEW; END $$",
        "CREATE TRIGGER boom BEFORE INSERT OR UPDATE ON items FOR EACH ROW EXECUTE FUNCTION boom()",
    )
    start = AppliedPosition(Position(999))

    # 1. The batch commits, then the process dies before the source hears of it.
    def fail_fourth(applied: AppliedPosition) -> None:
        if len(first.confirms) == 4:
            raise Injected("after the commit, before the confirmation")

    first = ScriptedSource(work.transactions, confirmed=start, on_confirm=fail_fourth)
    with pytest.raises(Injected):
        await _follow(pg_db, first)
    stored = stored_position(pg_db, UID)
    assert first.confirmed < stored  # committed, not confirmed: the source will send it again

    # 2. The target connection is killed between batches.
    def kill(read: int) -> None:
        if read == 5:
            pg_query(
                pg_db,
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()",
            )

    second = ScriptedSource(work.transactions, confirmed=first.confirmed, on_read=kill)
    with pytest.raises(Exception, match=r"connection|terminat"):
        await _follow(pg_db, second)
    assert second.reads[0] == stored  # it asked for what the target holds, not what was confirmed
    assert stored_position(pg_db, UID) > stored

    # 3. A statement fails in the middle of a batch: nothing of it stays, the position neither.
    third = ScriptedSource(work.transactions, confirmed=second.confirmed)
    with pytest.raises(Exception, match="injected in a batch"):
        await _follow(pg_db, third)
    before_boom = stored_position(pg_db, UID)
    assert before_boom.position < work.transactions[110].position
    assert all(row[0] != "boom" for row in _rows(pg_db).values())

    # 4. Resumed to the end, then cut over.
    pg_exec(pg_db, "UPDATE armed SET yes = false")
    bookkeeping.request_cutover(side(pg_db), UID, max_lag_seconds=3600)
    last = work.transactions[-1].position
    fourth = ScriptedSource(work.transactions, confirmed=third.confirmed)
    result = await _follow(pg_db, fourth, position=lambda: last)

    assert result.outcome == FollowOutcome.CUT_OVER and result.cutover_position == last
    assert _rows(pg_db) == work.final  # no change lost, none applied twice (the rows say so) ...
    record = bookkeeping.read(side(pg_db), UID)
    assert record is not None
    assert record.changes_applied == work.changes  # ... and neither does the count of changes
    assert record.applied == AppliedPosition(last, len(work.transactions[-1].changes), True)
    assert record.state == FollowState.CUT_OVER and record.cutover_reached_at is not None
    # The large transaction went over in chunks, and one run stopped inside it at least once.
    assert any(not p.complete for s in (first, second, third, fourth) for p in s.confirms)


async def test_the_cutover_position_is_taken_once_the_lag_is_under_the_maximum(pg_db: Database) -> None:
    work = workload(count=60)  # committed one a second over the last minute
    _load(pg_db, work.initial)
    bookkeeping.request_cutover(side(pg_db), UID, max_lag_seconds=5)  # before the follower starts
    last = work.transactions[-1].position
    taken_at: list[AppliedPosition] = []

    def position() -> Position:
        taken_at.append(stored_position(pg_db, UID))
        return last  # the source's current position: nothing was committed since

    reports: list[ReplicationProgress] = []
    settings = FollowSettings(max_changes=10, wait_seconds=0.05, report_seconds=0, poll_seconds=0)
    source = ScriptedSource(work.transactions, confirmed=AppliedPosition(Position(999)))
    result = await _follow(pg_db, source, position=position, report=reports.append, settings=settings)

    assert result.outcome == FollowOutcome.CUT_OVER and result.cutover_position == last
    assert _rows(pg_db) == work.final and len(taken_at) == 1
    states = [r.state for r in reports]
    taken = states.index(FollowState.CUTTING_OVER)
    lags = [r.lag_seconds for r in reports[:taken] if r.lag_seconds is not None]
    assert lags[0] > 30 and all(lag > 5 for lag in lags[:-1]) and lags[-1] <= 5
    assert states[-1] == FollowState.CUT_OVER and reports[-1].cutover_position == str(last)
    assert reports[-1].details == {"slot": "scripted"} and reports[-1].changes_applied == work.changes
    assert reports[-1].changes_per_second > 0


async def test_a_cutover_position_inside_the_stream_ends_there(pg_db: Database) -> None:
    work = workload(count=50)
    _load(pg_db, work.initial)
    cut = work.transactions[29].position
    pg_exec(
        pg_db,
        'UPDATE ferry."_ferry_replication" SET cutover_requested_at = now(), cutover_max_lag_seconds = 5, '
        f"cutover_text = '{cut}', cutover_major = {cut.major}, cutover_minor = 0, state = 'CuttingOver'",
    )  # a cutover position stored by an earlier run, which died before reaching it

    source = ScriptedSource(work.transactions, confirmed=AppliedPosition(Position(999)))
    result = await _follow(pg_db, source, position=lambda: pytest.fail("the stored position is used"))

    assert result.outcome == FollowOutcome.CUT_OVER
    assert stored_position(pg_db, UID) == AppliedPosition(cut, len(work.transactions[29].changes), True)
    expected = workload(count=30).final  # the same random steps, cut after 30 transactions
    assert _rows(pg_db) == expected
    # Once cut over, a rerun has nothing to do.
    again = ScriptedSource(work.transactions)
    assert (await _follow(pg_db, again)).outcome == FollowOutcome.CUT_OVER and again.reads == []


async def test_a_hand_off_position_ends_there_without_a_cutover(pg_db: Database) -> None:
    """Native apply's hand-off: Ferry's applier stops once every transaction up to the copy's end
    is applied, leaves the rest to the subscription, and records no cutover."""
    work = workload(count=50)
    _load(pg_db, work.initial)
    stop_at = work.transactions[29].position
    source = ScriptedSource(work.transactions, confirmed=AppliedPosition(Position(999)))
    source.target, source.uid = pg_db, UID
    result = await follow(
        source, pg_endpoint(pg_db), [ITEMS], migration_uid=UID, source_dialect="postgresql", secrets=None,
        source_position=lambda: pytest.fail("no cutover"), settings=FAST, stop_at=stop_at,
    )  # fmt: skip
    assert result.outcome == FollowOutcome.HANDED_OFF
    assert stored_position(pg_db, UID) == AppliedPosition(stop_at, len(work.transactions[29].changes), True)
    assert source.confirmed.position == stop_at  # the slot is told: the subscription starts there
    assert _rows(pg_db) == workload(count=30).final
    record = bookkeeping.read(side(pg_db), UID)
    assert record is not None and record.cutover_position is None and record.cutover_reached_at is None


async def test_a_quiet_source_ends_the_cutover_after_empty_reads(pg_db: Database) -> None:
    work = workload(count=5)
    _load(pg_db, work.initial)
    bookkeeping.request_cutover(side(pg_db), UID, max_lag_seconds=3600)
    source = ScriptedSource(work.transactions, confirmed=AppliedPosition(Position(999)))
    result = await _follow(pg_db, source, position=lambda: Position(10**6, 0, "0/F4240"))
    assert result.outcome == FollowOutcome.CUT_OVER and _rows(pg_db) == work.final
    record = bookkeeping.read(side(pg_db), UID)
    assert record is not None and record.cutover_position == Position(10**6) and record.state == "CutOver"


async def test_stop_leaves_a_resumable_position(pg_db: Database) -> None:
    work = workload(count=80)
    _load(pg_db, work.initial)
    source = ScriptedSource(work.transactions, confirmed=AppliedPosition(Position(999)))
    result = await _follow(pg_db, source, stop_after_reads=3)
    assert result.outcome == FollowOutcome.STOPPED
    assert result.applied == stored_position(pg_db, UID) == source.confirmed
    assert result.applied.position < work.transactions[-1].position

    bookkeeping.request_cutover(side(pg_db), UID, max_lag_seconds=3600)
    rest = ScriptedSource(work.transactions, confirmed=source.confirmed)
    assert (await _follow(pg_db, rest)).outcome == FollowOutcome.CUT_OVER
    assert _rows(pg_db) == work.final


class SchemaChangingSource(ScriptedSource):
    async def read(
        self, after: AppliedPosition, max_changes: int, wait_seconds: float
    ) -> list[SourceTransaction]:
        if len(self.reads) == 2:
            raise SourceSchemaChanged("public.items", "column n changed type from integer to bigint")
        return await super().read(after, max_changes, wait_seconds)


async def test_a_schema_change_on_the_source_is_an_outcome_that_names_it(pg_db: Database) -> None:
    work = workload(count=80)
    _load(pg_db, work.initial)
    source = SchemaChangingSource(work.transactions, confirmed=AppliedPosition(Position(999)))
    result = await _follow(pg_db, source)
    assert result.outcome == FollowOutcome.SCHEMA_CHANGED
    assert result.message == (
        "the source changed the structure of a followed table: "
        "table public.items: column n changed type from integer to bigint"
    )
    record = bookkeeping.read(side(pg_db), UID)
    assert record is not None and "column n changed type" in record.message
    assert record.applied == stored_position(pg_db, UID) == result.applied
