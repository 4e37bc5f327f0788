"""Progress aggregation: what `kubectl get mig` shows while workers copy."""

from __future__ import annotations

from ferry.api.migration import MigrationStatus, TableStatus, WorkerStatus
from ferry.humanize import human_duration, human_rate
from ferry.services.progress import aggregate, bounded, refresh_progress


def _worker(rows: int, rate: float, tables: list[TableStatus], state: str = "running") -> WorkerStatus:
    return WorkerStatus(state=state, rows_copied=rows, rows_per_second=rate, tables=tables)


def test_rows_of_a_split_table_are_summed_across_workers() -> None:
    workers = {
        "0": _worker(
            300, 100, [TableStatus(name="orders", state="copying", rows_copied=300, rows_estimated=1000)]
        ),
        "1": _worker(
            200, 50, [TableStatus(name="orders", state="done", rows_copied=200, rows_estimated=1000)]
        ),
    }
    progress, tables, omitted = aggregate(workers, tables_total=1, rows_estimated=1000, finished=False)
    assert progress.rows_copied == 500
    assert progress.percent == 50.0 and progress.percent_text == "50.0%"
    assert progress.rows_per_second == 150
    assert progress.eta_seconds == 3  # 500 rows left at 150 rows/s
    assert [(t.name, t.state, t.rows_copied) for t in tables] == [("orders", "copying", 500)]
    assert omitted == 0


def test_percent_never_reaches_100_before_the_job_finishes() -> None:
    workers = {"0": _worker(5000, 10, [])}  # statistics underestimated the table
    progress, _, _ = aggregate(workers, tables_total=1, rows_estimated=1000, finished=False)
    assert progress.percent == 99.9
    assert progress.rows_estimated == 5000
    finished, _, _ = aggregate(workers, tables_total=1, rows_estimated=1000, finished=True)
    assert finished.percent == 100.0 and finished.tables_done == 1 and finished.eta == "-"


def test_table_list_is_bounded_and_keeps_failures_first() -> None:
    tables = [TableStatus(name=f"t{i:05d}", state="done", rows_copied=i) for i in range(10_000)]
    tables.append(TableStatus(name="broken", state="failed"))
    shown, omitted = bounded(tables)
    assert len(shown) == 50 and omitted == 9951
    assert shown[0].name == "broken"


def test_human_forms_for_printer_columns() -> None:
    assert human_rate(1_250_000) == "1.2M rows/s"
    assert human_rate(5200) == "5.2k rows/s"
    assert human_rate(12) == "12 rows/s"
    assert human_duration(3725) == "1h02m"
    assert human_duration(75) == "1m15s"
    assert human_duration(9) == "9s"


def _pod(pod: str | None, nbytes: int, cpu: float) -> WorkerStatus:
    return WorkerStatus(pod=pod, bytes_copied=nbytes, cpu_seconds=cpu)


def test_bytes_and_cpu_of_replaced_pods_stay_in_the_run_usage() -> None:
    status = MigrationStatus()
    status.workers = {"0": _pod("copy-1-0-a", 1000, 2.0), "1": _pod("copy-1-1-a", 500, 1.0)}
    refresh_progress(status, finished=False)
    assert status.progress is not None
    assert (status.progress.bytes_copied, status.progress.worker_cpu_seconds) == (1500, 3.0)

    # Index 0 failed and a new pod took it over (its own counts start at 0); its final report grew first.
    status.workers["0"] = _pod("copy-1-0-a", 1200, 2.5)
    refresh_progress(status, finished=False)
    status.workers["0"] = _pod("copy-1-0-b", 100, 0.25)
    refresh_progress(status, finished=False)
    assert (status.progress.bytes_copied, status.progress.worker_cpu_seconds) == (1200 + 100 + 500, 3.75)

    # The next attempt's pods replace both; nothing is counted twice across the ticks.
    status.workers = {"0": _pod("copy-2-0-a", 10, 0.5), "1": _pod("copy-2-1-a", 20, 0.5)}
    refresh_progress(status, finished=False)
    refresh_progress(status, finished=True)
    assert status.progress.bytes_copied == 1200 + 100 + 500 + 10 + 20
    assert status.progress.worker_cpu_seconds == 2.5 + 0.25 + 1.0 + 0.5 + 0.5
    assert status.earlier_pods is not None and status.earlier_pods.bytes_copied == 1800


def test_workers_that_name_no_pod_count_their_latest_figures_only() -> None:
    status = MigrationStatus()
    status.workers = {"0": _pod(None, 1000, 2.0)}
    refresh_progress(status, finished=False)
    status.workers = {"0": _pod(None, 10, 0.5)}
    refresh_progress(status, finished=False)
    assert status.progress is not None and status.progress.bytes_copied == 10
    assert status.earlier_pods is None  # nothing to keep: no status field appears
