"""Aggregate what worker pods report into the Migration's progress and bounded table list."""

from __future__ import annotations

from ferry.api import conditions as c
from ferry.api.base import now_rfc3339
from ferry.api.migration import (
    EarlierPods,
    MigrationStatus,
    PodFigures,
    ProgressStatus,
    StatusEvent,
    TableStatus,
    WorkerState,
    WorkerStatus,
)
from ferry.humanize import human_duration, human_rate
from ferry.observability.errors import first_line
from ferry.services.migration_ports import MigrationContext
from ferry.services.pod_usage import refresh_usage

MAX_TABLE_ENTRIES = 50
_STATE_ORDER = {"failed": 0, "copying": 1, "pending": 2, "validated": 3, "done": 4}


def merge_tables(workers: dict[str, WorkerStatus]) -> list[TableStatus]:
    """One entry per table: rows summed over the workers that copy parts of it."""
    merged: dict[str, TableStatus] = {}
    for worker in workers.values():
        for entry in worker.tables:
            current = merged.get(entry.name)
            if current is None:
                merged[entry.name] = entry.model_copy()
                continue
            current.rows_copied += entry.rows_copied
            current.rows_estimated = max(current.rows_estimated, entry.rows_estimated)
            if _STATE_ORDER.get(entry.state, 9) < _STATE_ORDER.get(current.state, 9):
                current.state = entry.state
    return list(merged.values())


def bounded(tables: list[TableStatus], limit: int = MAX_TABLE_ENTRIES) -> tuple[list[TableStatus], int]:
    """The `limit` most relevant tables (failing, then copying, then largest), and how many were left out."""
    ranked = sorted(tables, key=lambda t: (_STATE_ORDER.get(t.state, 9), -t.rows_copied, t.name))
    return ranked[:limit], max(len(ranked) - limit, 0)


def carry_replaced_pods(status: MigrationStatus) -> EarlierPods | None:
    """`earlierPods` with the figures of every pod a later pod replaced at its index since the
    last look: `workers.<index>` is overwritten by the pod that retries the index (or by the next
    attempt's), so without this the run's bytes and CPU would be its latest pods' only. A pod's
    figures are those the operator last saw (its final report, unless the next pod reported first,
    within one 2 s tick). Workers that report no pod name (older images) are left out."""
    earlier = status.earlier_pods.model_copy(deep=True) if status.earlier_pods else EarlierPods()
    for index, worker in status.workers.items():
        if not worker.pod:
            continue
        seen = earlier.last_seen.get(index)
        if seen is not None and seen.pod != worker.pod:
            earlier.bytes_copied += seen.bytes_copied
            earlier.cpu_seconds = round(earlier.cpu_seconds + seen.cpu_seconds, 2)
        earlier.last_seen[index] = PodFigures(
            pod=worker.pod, bytes_copied=worker.bytes_copied, cpu_seconds=worker.cpu_seconds
        )
    return earlier if earlier.last_seen else status.earlier_pods


def aggregate(
    workers: dict[str, WorkerStatus],
    tables_total: int,
    rows_estimated: int,
    finished: bool,
    earlier: EarlierPods | None = None,
) -> tuple[ProgressStatus, list[TableStatus], int]:
    tables = merge_tables(workers)
    rows = sum(w.rows_copied for w in workers.values())
    rate = sum(w.rows_per_second for w in workers.values() if w.state == "running")
    done = sum(1 for t in tables if t.state in ("done", "validated"))
    if finished:
        percent = 100.0
    elif rows_estimated > 0:
        # Estimates come from database statistics; never claim completion before the workers do.
        percent = min(99.9, 100.0 * rows / rows_estimated)
    else:
        percent = 0.0
    remaining = max(rows_estimated - rows, 0)
    eta = int(remaining / rate) if rate > 0 and not finished else None
    progress = ProgressStatus(
        tables_total=tables_total,
        tables_done=tables_total if finished else done,
        rows_copied=rows,
        rows_estimated=max(rows_estimated, rows),
        percent=round(percent, 1),
        percent_text=f"{percent:.1f}%",
        rows_per_second=round(rate, 1),
        bytes_copied=sum(w.bytes_copied for w in workers.values()) + (earlier.bytes_copied if earlier else 0),
        worker_cpu_seconds=round(
            sum(w.cpu_seconds for w in workers.values()) + (earlier.cpu_seconds if earlier else 0.0), 2
        ),
        eta_seconds=eta,
        # A merge patch cannot unset a field by omitting it, so finished copies say so explicitly.
        speed=human_rate(rate) if not finished else "-",
        eta=human_duration(eta) if eta is not None else ("-" if finished else None),
        updated_at=now_rfc3339(),
    )
    shown, omitted = bounded(tables)
    return progress, shown, omitted


def refresh_progress(status: MigrationStatus, finished: bool) -> None:
    """Aggregate the workers' reports into `status` (and every kind of pod's CPU time into
    `status.usage`, ferry.services.pod_usage). When nothing but the time changed, the
    progress stays as it was (its updatedAt too), so a tick with no news writes no status."""
    current = status.progress
    status.earlier_pods = carry_replaced_pods(status)
    progress, tables, omitted = aggregate(
        status.workers,
        current.tables_total if current else 0,
        current.rows_estimated if current else 0,
        finished,
        status.earlier_pods,
    )
    if current is not None and progress.model_copy(update={"updated_at": current.updated_at}) == current:
        progress = current
    status.progress, status.tables, status.tables_omitted = progress, tables, omitted
    refresh_usage(status)


def database_outage(ctx: MigrationContext) -> StatusEvent | None:
    """While a copy worker reports `reconnecting` (a database went away; it tries again with
    backoff), Reconciling=True with reason DatabaseUnavailable and the worker's message; while one
    reports `throttled` (copy.throttle.guard holds new batches), reason ThrottledByGuard; once none
    does, back to Running. The phase stays Running throughout."""
    st = ctx.status
    reconciling = st.condition(c.RECONCILING)
    for state, reason, default in (
        (WorkerState.RECONNECTING, c.DATABASE_UNAVAILABLE, "database unavailable"),
        (WorkerState.THROTTLED, c.THROTTLED_BY_GUARD, "paused by copy.throttle.guard"),
    ):
        waiting = sorted(w.message or default for w in st.workers.values() if w.state == state)
        if waiting:
            return st.mark_workers_held(reason, first_line(waiting[0]), ctx.generation)
    if reconciling is not None and reconciling.reason == c.DATABASE_UNAVAILABLE:
        return st.mark_running(f"database reachable again; job {st.job_name} is copying", ctx.generation)
    if reconciling is not None and reconciling.reason == c.THROTTLED_BY_GUARD:
        return st.mark_running(
            f"the throttle guard's metric fell; job {st.job_name} is copying", ctx.generation
        )
    return None
