"""Native apply on real PostgreSQL: a subscription on the target takes over Ferry's slot after
Ferry's applier replayed the changes made during the copy; exact across a killed follower; the
cutover leaves no subscription, slot or publication; what is not eligible falls back to Ferry's
applier under `auto` and says why."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from typing import Any

import psycopg
import pytest

from ferry.api.migration import ApplyMethod
from ferry.cdc import bookkeeping, capture, native_apply
from ferry.cdc.follower import FollowOutcome, FollowResult, FollowSettings
from ferry.cdc.lifecycle import CdcCaptureOps
from ferry.cdc.native_apply import NativeApplyUnavailable
from ferry.cdc.native_follower import NativeSettings
from ferry.cdc.online_follow import follow_online
from ferry.cdc.progress import FollowState, ReplicationProgress
from ferry.schema.mapping import ColumnMapping, TableMapping
from ferry.services.planning import Side
from harness.databases import Database, PostgresServer
from integration.cdc.helpers import pg_query
from integration.cdc.pg_helpers import execute, mapping, settle, side_of, slot_row
from integration.copy.helpers import pg_endpoint

COLUMNS = [("id", "integer"), ("name", "text"), ("note", "text"), ("n", "integer")]
ITEMS = mapping("items", COLUMNS)
EVENTS = mapping("events", [("id", "integer"), ("payload", "text")])
TABLES_SQL = (
    "CREATE TABLE items (id integer PRIMARY KEY, name text, note text, n integer)",
    # Out of line and uncompressed: an update that leaves `note` alone sends pgoutput's marker.
    "ALTER TABLE items ALTER COLUMN note SET STORAGE EXTERNAL",
    "CREATE TABLE events (id integer PRIMARY KEY, payload text)",  # insert-only: a replay would collide
)
FAST = FollowSettings(max_changes=50, wait_seconds=0.05, report_seconds=0, poll_seconds=0, details_seconds=0)
QUICK = NativeSettings(poll_seconds=0.1, report_seconds=0, schema_seconds=0.5, details_seconds=0)
ITEMS_DIGEST = "SELECT id, name, md5(note), n FROM items ORDER BY id"


@pytest.fixture
def target_db(pg_server: PostgresServer, pg_db2: Database) -> Database:
    """The target as its superuser: PostgreSQL 15 lets only superusers create subscriptions."""
    return pg_server.as_superuser(pg_db2)


@pytest.fixture
def target(target_db: Database, migration_uid: str) -> Iterator[Side]:
    side = side_of(target_db)
    yield side
    native_apply.drop_subscription(side, migration_uid)  # before the capture's drop (migration_uid)


def _copy(source_db: Database, target_db: Database) -> None:
    """The initial copy, as the copy engine leaves it: the rows as read now, keys built."""
    execute(target_db, *TABLES_SQL)
    for table in ("items", "events"):
        rows = pg_query(source_db, f"SELECT * FROM {table} ORDER BY id")
        if rows:
            marks = ", ".join(["%s"] * len(rows[0]))
            with psycopg.connect(target_db.libpq_dsn(), autocommit=True) as conn:
                conn.cursor().executemany(f"INSERT INTO {table} VALUES ({marks})", rows)  # type: ignore[arg-type]


def _start(source: Side, target: Side, uid: str, tables: Sequence[TableMapping]) -> None:
    bookkeeping.record_start(target, uid, capture.start_capture(source, tables, uid))


class Run:
    """One follower, as the worker runs it, in a task of its own."""

    def __init__(
        self,
        source: Side,
        target: Side,
        target_db: Database,
        uid: str,
        tables: Sequence[TableMapping],
        method: ApplyMethod = ApplyMethod.AUTO,
    ) -> None:
        self.reports: list[ReplicationProgress] = []
        self.stop = asyncio.Event()

        async def should_stop() -> bool:
            return self.stop.is_set()

        self.task: asyncio.Task[FollowResult] = asyncio.create_task(
            follow_online(
                source,
                target,
                pg_endpoint(target_db),
                tables,
                migration_uid=uid,
                method=method,
                source_dialect="postgresql",
                secrets=None,
                source_position=lambda: capture.source_position(source),
                report=self.reports.append,
                should_stop=should_stop,
                settings=FAST,
                native_settings=QUICK,
            )
        )

    async def until(self, check: Callable[[], bool | Awaitable[bool]], timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            outcome = check()
            if outcome if isinstance(outcome, bool) else await outcome:
                return
            if self.task.done():
                self.task.result()  # raises what the follower raised
                raise AssertionError("the follower ended early")
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting; last report: {self.reports[-1:]}")
            await asyncio.sleep(0.1)

    async def result(self, timeout: float = 60) -> FollowResult:
        return await asyncio.wait_for(self.task, timeout)


def _subscriptions(db: Database) -> list[tuple[Any, ...]]:
    return pg_query(db, "SELECT subname, subenabled FROM pg_subscription")


def _native(run: Run) -> bool:
    return any(p.apply_method == "native" and p.changes_applied is None for p in run.reports)


async def test_native_follow_applies_every_kind_of_change_exactly_and_the_cutover_cleans_up(
    source_db: Database, source: Side, target_db: Database, target: Side, migration_uid: str
) -> None:
    uid = migration_uid
    execute(source_db, *TABLES_SQL)
    execute(source_db, "INSERT INTO items SELECT g, 'init ' || g, repeat(md5(g::text), 200), g "
                       "FROM generate_series(1, 30) g")  # fmt: skip
    _start(source, target, uid, [ITEMS, EVENTS])
    # During the copy: changes the copy may or may not see; Ferry's applier replays them idempotently.
    execute(source_db, "INSERT INTO items VALUES (31, 'during', 'copy', 1)",
            "UPDATE items SET name = 'u' WHERE id <= 3", "DELETE FROM items WHERE id = 4",
            "UPDATE items SET id = 105 WHERE id = 5",
            "INSERT INTO events SELECT g, 'e' || g FROM generate_series(1, 20) g")  # fmt: skip
    _copy(source_db, target_db)
    execute(source_db, "UPDATE items SET name = 'after the read' WHERE id = 6")  # the copy missed it
    bookkeeping.record_copy_end(target, uid, capture.source_position(source))
    # After the copy: the backlog the subscription applies.
    execute(source_db,
            "INSERT INTO items SELECT g, 'new', repeat('y', 9000), g FROM generate_series(40, 60) g",
            "UPDATE items SET n = n + 100 WHERE id BETWEEN 7 AND 20",  # note TOASTed and unchanged
            "DELETE FROM items WHERE id IN (8, 41)", "UPDATE items SET id = 109 WHERE id = 9",
            "INSERT INTO events SELECT g, 'e' || g FROM generate_series(21, 200) g")  # fmt: skip

    run = Run(source, target, target_db, uid, [ITEMS, EVENTS])
    await run.until(lambda: bool(_subscriptions(target_db)) and _native(run))
    # While following: more of every kind, applied by PostgreSQL.
    execute(source_db, "UPDATE items SET n = -n WHERE id BETWEEN 10 AND 15",
            "DELETE FROM items WHERE id = 42",
            "UPDATE items SET id = 142, name = 'moved' WHERE id = 43", "TRUNCATE events",
            "INSERT INTO events VALUES (1, 'after truncate')")  # fmt: skip
    bookkeeping.request_cutover(target, uid, 5)
    result = await run.result()

    assert result.outcome == FollowOutcome.CUT_OVER
    assert result.cutover_position is not None and result.applied.position >= result.cutover_position
    assert pg_query(target_db, ITEMS_DIGEST) == pg_query(source_db, ITEMS_DIGEST)
    assert pg_query(target_db, "SELECT * FROM events") == [(1, "after truncate")]
    assert _subscriptions(target_db) == []
    assert run.reports[-1].state == FollowState.CUT_OVER and run.reports[-1].apply_method == "native"
    record = bookkeeping.read(target, uid)
    assert record is not None and record.cutover_reached_at is not None
    assert record.applied.position >= result.cutover_position

    dropped = CdcCaptureOps().drop(source, target, uid, "cut-over")
    assert "slot" in dropped and "publication" in dropped
    assert slot_row(source_db, native_apply.subscription_name(uid)) is None
    assert pg_query(source_db, "SELECT pubname FROM pg_publication") == []
    assert (
        pg_query(source_db, "SELECT slot_name FROM pg_replication_slots WHERE slot_name LIKE 'ferry%%'") == []
    )


async def test_a_killed_native_follower_is_adopted_and_nothing_is_applied_twice_or_lost(
    source_db: Database, source: Side, target_db: Database, target: Side, migration_uid: str
) -> None:
    uid = migration_uid
    execute(source_db, *TABLES_SQL)
    _start(source, target, uid, [ITEMS, EVENTS])
    _copy(source_db, target_db)
    bookkeeping.record_copy_end(target, uid, capture.source_position(source))

    def events(first: int, last: int) -> str:
        return f"INSERT INTO events SELECT g, 'e' || g FROM generate_series({first}, {last}) g"

    def arrived(count: int) -> Callable[[], bool]:
        return lambda: pg_query(target_db, "SELECT count(*) FROM events")[0][0] == count

    first = Run(source, target, target_db, uid, [ITEMS, EVENTS])
    execute(source_db, events(1, 500))
    await first.until(arrived(500))
    first.task.cancel()  # killed: no stop, no clean-up; the subscription keeps applying meanwhile
    with pytest.raises(asyncio.CancelledError):
        await first.task
    execute(source_db, events(501, 1000), "INSERT INTO items VALUES (1, 'a', 'b', 1)")
    deadline = time.monotonic() + 30  # applied with no follower running
    while not arrived(1000)() and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    assert arrived(1000)()

    second = Run(source, target, target_db, uid, [ITEMS, EVENTS])  # adopts the subscription
    await second.until(lambda: _native(second))
    assert _subscriptions(target_db) == [(native_apply.subscription_name(uid), True)]
    execute(source_db, events(1001, 1500), "UPDATE items SET n = 2")
    bookkeeping.request_cutover(target, uid, 5)
    result = await second.result()

    assert result.outcome == FollowOutcome.CUT_OVER
    # An insert applied twice would have stopped the subscription on its duplicate key.
    assert pg_query(target_db, "SELECT count(*), min(id), max(id) FROM events") == [(1500, 1, 1500)]
    assert pg_query(target_db, ITEMS_DIGEST) == pg_query(source_db, ITEMS_DIGEST)
    assert _subscriptions(target_db) == []


async def test_a_stop_disables_the_subscription_and_a_schema_change_ends_the_follower(
    source_db: Database, source: Side, target_db: Database, target: Side, migration_uid: str
) -> None:
    uid = migration_uid
    execute(source_db, *TABLES_SQL)
    _start(source, target, uid, [ITEMS, EVENTS])
    _copy(source_db, target_db)
    bookkeeping.record_copy_end(target, uid, capture.source_position(source))
    run = Run(source, target, target_db, uid, [ITEMS, EVENTS])
    await run.until(lambda: bool(_subscriptions(target_db)) and _native(run))
    run.stop.set()
    assert (await run.result()).outcome == FollowOutcome.STOPPED
    assert _subscriptions(target_db) == [(native_apply.subscription_name(uid), False)]
    assert slot_row(source_db, native_apply.subscription_name(uid)) is not None  # kept for the next one

    execute(
        source_db,
        "ALTER TABLE items ADD COLUMN extra integer",
        "INSERT INTO items VALUES (1, 'a', 'b', 1, 7)",
    )
    again = Run(source, target, target_db, uid, [ITEMS, EVENTS])
    result = await again.result()
    assert result.outcome == FollowOutcome.SCHEMA_CHANGED
    assert result.schema_change is not None and "column extra added" in str(result.schema_change)
    assert _subscriptions(target_db) == [(native_apply.subscription_name(uid), False)]

    # Deleting (or rolling back) the Migration drops the subscription first, then slot and publication.
    dropped = CdcCaptureOps().drop(source, target, uid, "deleted")
    assert dropped.startswith(f"subscription {native_apply.subscription_name(uid)} and slot")
    assert _subscriptions(target_db) == []
    assert slot_row(source_db, native_apply.subscription_name(uid)) is None


def _renamed() -> TableMapping:
    columns = tuple(
        ColumnMapping(
            c.source, "title" if c.source == "name" else c.target, c.source_type, c.target_type, c.nullable
        )
        for c in ITEMS.columns
    )
    return TableMapping(ITEMS.source_schema, "items", ITEMS.target_schema, "items", columns, ITEMS.key)


async def test_a_renamed_column_is_applied_by_ferry_under_auto_and_refused_under_native(
    source_db: Database, source: Side, target_db: Database, target: Side, migration_uid: str
) -> None:
    uid = migration_uid
    execute(source_db, *TABLES_SQL)
    _start(source, target, uid, [_renamed()])
    execute(target_db, "CREATE TABLE items (id integer PRIMARY KEY, title text, note text, n integer)")
    bookkeeping.record_copy_end(target, uid, capture.source_position(source))
    execute(source_db, "INSERT INTO items VALUES (1, 'one', 'x', 1)")

    run = Run(source, target, target_db, uid, [_renamed()])
    await run.until(lambda: pg_query(target_db, "SELECT title FROM items") == [("one",)])
    run.stop.set()
    assert (await run.result()).outcome == FollowOutcome.STOPPED
    assert {p.apply_method for p in run.reports} == {"ferry"}
    assert (
        run.reports[-1].apply_method_reason
        == "table public.items: column name is renamed (native apply keeps column names)"
    )
    assert run.reports[-1].changes_applied == 1
    assert _subscriptions(target_db) == []

    native = Run(source, target, target_db, uid, [_renamed()], ApplyMethod.NATIVE)
    with pytest.raises(
        NativeApplyUnavailable, match=r"spec\.online\.apply is native, but .*column name is renamed"
    ):
        await native.result()


async def test_a_target_user_that_may_not_subscribe_falls_back_to_ferry_and_says_so(
    source_db: Database, source: Side, pg_db2: Database, migration_uid: str
) -> None:
    uid, target = migration_uid, side_of(pg_db2)  # the database's own role: not a superuser
    execute(source_db, *TABLES_SQL)
    _start(source, target, uid, [ITEMS])
    _copy(source_db, pg_db2)
    bookkeeping.record_copy_end(target, uid, capture.source_position(source))
    run = Run(source, target, pg_db2, uid, [ITEMS])
    await run.until(lambda: bool(run.reports))
    run.stop.set()
    await run.result()
    assert run.reports[-1].apply_method == "ferry"
    assert "may not CREATE SUBSCRIPTION" in (run.reports[-1].apply_method_reason or "")


async def test_the_slot_is_moved_to_what_ferrys_applier_committed_and_never_back(
    source_db: Database, source: Side, target: Side, migration_uid: str
) -> None:
    """The hand-off after a crash between Ferry's target commit and its slot confirmation: the
    subscription starts at the slot, so the slot must first reach the stored position."""
    execute(source_db, *TABLES_SQL)
    _start(source, target, migration_uid, [ITEMS])
    slot = native_apply.subscription_name(migration_uid)
    started = slot_row(source_db, slot)
    assert started is not None
    execute(source_db, "INSERT INTO items VALUES (1, 'a', 'b', 1)")
    committed = capture.source_position(source)  # as if Ferry's applier had committed up to here
    await settle()  # a slot moves only through flushed WAL (the test server commits asynchronously)
    conn = await native_apply.connect(source)
    try:
        await native_apply.align_slot(conn, slot, committed.major)
        moved = slot_row(source_db, slot)
        assert moved is not None and moved["confirmed"] == str(committed)
        # Behind where the slot is now: the server's current position could be ahead of it
        # (background WAL, a checkpoint), which would be a legitimate move forward.
        await native_apply.align_slot(conn, slot, committed.major - 1)
        assert slot_row(source_db, slot) == moved
    finally:
        await conn.close()
