"""The runner's `should_stop` hook: awaited between batches, it stops a unit at its committed
checkpoint, and a hook that waits (the worker while suspended) does not stall the other units."""

from __future__ import annotations

import asyncio
import os
import signal

from ferry.api.migration import CopySpec, WorkerStatus
from ferry.copy import CopyJob, Endpoints, ProgressEvent, ProgressTracker, plan_units, run_units
from ferry.services.copy_driver import CopyShare
from ferry.worker.control import CopyControl
from ferry.worker.main import copy_units
from harness.databases import Database
from integration.copy.helpers import pg_endpoint, pg_exec, pg_rows, table_mapping

CHECKPOINTS = "SELECT unit_id, last_key, rows_copied, done FROM ferry._ferry_checkpoints ORDER BY unit_id"


def _tables(source: Database, target: Database, rows: dict[str, int]) -> None:
    for table, count in rows.items():
        pg_exec(source, f"CREATE TABLE {table} (id integer PRIMARY KEY, v text)",
                f"INSERT INTO {table} SELECT i, 'v' || i FROM generate_series(1, {count}) i")  # fmt: skip
        pg_exec(target, f"CREATE TABLE {table} (id integer, v text)")


async def test_should_stop_ends_a_unit_between_batches_with_its_checkpoint_intact(
    pg_db: Database, pg_db2: Database
) -> None:
    _tables(pg_db, pg_db2, {"t": 400})
    mapping = table_mapping("t", [("id", "integer"), ("v", "text")])
    job = CopyJob("stop", Endpoints(pg_endpoint(pg_db), pg_endpoint(pg_db2)), CopySpec(batch_size=100))
    units = await plan_units([mapping], job.endpoints.source, job.copy)
    asked = 0

    async def after_two_batches() -> bool:
        nonlocal asked
        asked += 1  # once before the unit starts, then before each batch
        return asked > 3

    first = await run_units(job, units, should_stop=after_two_batches)

    assert [(r.state, r.rows_copied, r.checkpoint) for r in first.results] == [("stopped", 200, "('200')")]
    assert pg_rows(pg_db2, CHECKPOINTS) == [("public.t", '["200"]', 200, False)]
    assert pg_rows(pg_db2, "SELECT count(*), max(id) FROM t") == [(200, 200)]

    second = await run_units(job, units)  # the default never stops: resumes after id 200

    assert second.ok and second.rows_copied == 400
    assert pg_rows(pg_db2, "SELECT count(*), count(DISTINCT id), sum(id) FROM t") == [(400, 400, 80200)]


async def test_a_unit_waiting_in_should_stop_lets_the_other_unit_copy(
    pg_db: Database, pg_db2: Database
) -> None:
    # Each unit runs in its own task: the first unit to reach its second batch boundary waits
    # there (as a suspended worker does) until the other table is done. A hook that blocked
    # the event loop would stall that table too and the wait would time out.
    _tables(pg_db, pg_db2, {"a": 1000, "b": 1000})
    columns = [("id", "integer"), ("v", "text")]
    mappings = [table_mapping("a", columns), table_mapping("b", columns)]
    job = CopyJob("wait", Endpoints(pg_endpoint(pg_db), pg_endpoint(pg_db2)), CopySpec(batch_size=100))
    units = await plan_units(mappings, job.endpoints.source, job.copy)
    done_tables: set[str] = set()
    other_done = asyncio.Event()
    events_while_waiting: list[ProgressEvent] = []
    waiting: list[asyncio.Task[object] | None] = [None]
    asked: dict[asyncio.Task[object] | None, int] = {}

    def progress(event: ProgressEvent) -> None:
        if waiting[0] is not None and not other_done.is_set():
            events_while_waiting.append(event)
        if event.done:
            done_tables.add(event.table)
            other_done.set()

    async def wait_once() -> bool:
        me = asyncio.current_task()
        asked[me] = asked.get(me, 0) + 1
        if asked[me] == 3 and waiting[0] is None:  # after this unit's first batch
            waiting[0] = me
            await asyncio.wait_for(other_done.wait(), timeout=30)
        return False

    results = await run_units(job, units, progress=progress, should_stop=wait_once)

    assert results.ok and results.rows_copied == 2000, results.failed
    assert done_tables == {"public.a", "public.b"}
    (other,) = {e.table for e in events_while_waiting}  # only the other table moved meanwhile
    assert events_while_waiting[-1].done and len([e for e in events_while_waiting if e.rows_delta]) >= 2
    assert pg_rows(pg_db2, f"SELECT count(*), count(DISTINCT id) FROM {other}") == [(1000, 1000)]
    assert pg_rows(pg_db2, "SELECT count(*) FROM a UNION ALL SELECT count(*) FROM b") == [(1000,), (1000,)]


class _NotSuspended:
    def __init__(self) -> None:
        self.reports: list[str] = []

    def suspended(self) -> bool:
        return False

    def report(self, status: WorkerStatus) -> None:
        self.reports.append(status.state)


class _SigtermAt(ProgressTracker):
    """Sends this process SIGTERM once `rows` rows are copied (from inside the copy's loop)."""

    def __init__(self, rows: int) -> None:
        super().__init__()
        self.at, self.sent = rows, False

    def update(self, event: ProgressEvent) -> None:
        super().update(event)
        if not self.sent and event.rows_copied >= self.at:
            self.sent = True
            os.kill(os.getpid(), signal.SIGTERM)


async def test_sigterm_stops_the_worker_between_batches_at_its_committed_checkpoint(
    pg_db: Database, pg_db2: Database
) -> None:
    _tables(pg_db, pg_db2, {"t": 1000})
    mapping = table_mapping("t", [("id", "integer"), ("v", "text")])
    job = CopyJob("sigterm", Endpoints(pg_endpoint(pg_db), pg_endpoint(pg_db2)), CopySpec(batch_size=100))
    units = await plan_units([mapping], job.endpoints.source, job.copy)
    tracker = _SigtermAt(200)
    control = CopyControl(_NotSuspended(), lambda state: WorkerStatus(state=state))
    previous = signal.getsignal(signal.SIGTERM)
    try:
        results = await copy_units(CopyShare(job, units, len(units)), tracker, control)
        restored = signal.getsignal(signal.SIGTERM)
    finally:
        signal.signal(signal.SIGTERM, previous)

    (result,) = results.results
    assert control.stopping and result.state == "stopped" and 200 <= result.rows_copied < 1000
    rows = result.rows_copied
    assert pg_rows(pg_db2, CHECKPOINTS) == [("public.t", f'["{rows}"]', rows, False)]
    assert pg_rows(pg_db2, "SELECT count(*), max(id) FROM t") == [(rows, rows)]
    assert restored not in (signal.SIG_DFL, previous)  # after the copy, SIGTERM exits at once again
    assert (await run_units(job, units)).rows_copied == 1000
