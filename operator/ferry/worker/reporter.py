"""The worker's view of its Migration: progress reports and the suspend switch.

Each worker pod owns exactly one entry, `status.workers.<index>`; a JSON merge patch of that
key touches nothing else, so pods and the operator never overwrite each other's fields.

Both calls block on the API server; `ferry.worker.control` calls them from the copy's event
loop through `asyncio.to_thread`, several units at once, hence the lock.
"""

from __future__ import annotations

import threading
import time

from kubernetes import client

from ferry.api.base import now_rfc3339
from ferry.api.kinds import MIGRATION
from ferry.api.migration import TableState, TableStatus, WorkerStatus
from ferry.api.migration_validation import ValidationWorkerStatus
from ferry.kube.retry import call_with_backoff
from ferry.kube.status import get_object, patch_status
from ferry.observability.errors import first_line
from ferry.observability.logging import get_logger
from ferry.services.progress import bounded

log = get_logger("ferry.worker")
SUSPEND_READ_INTERVAL_SECONDS = 2.0  # every unit asks between batches; the API is asked this often
# Each call's limit: an API server that accepts connections but does not answer (stopped, or
# behind a dead load balancer) must not hold a report thread, or the units waiting on the
# suspend read, for longer than this.
REQUEST_TIMEOUT_SECONDS = 10.0
# The last report of a pod (done, failed, stopped) is retried through an API server outage for
# up to this long; after that the pod ends anyway with its exit code: the Job's result is what
# the operator goes by, and validation counts the rows.
FINAL_REPORT_SECONDS = 300.0


class StatusReporter:
    def __init__(self, api: client.ApiClient, namespace: str, name: str, index: int) -> None:
        self.api, self.namespace, self.name, self.index = api, namespace, name, index
        self._last_suspend_check = 0.0
        self._suspended = False
        self._lock = threading.Lock()

    def report(self, status: WorkerStatus) -> None:
        """Patch this worker's entry (the caller paces it: a heartbeat, plus start and end)."""
        shown, _ = bounded(status.tables)
        entry = status.model_copy(update={"tables": shown, "updated_at": now_rfc3339()})
        patch = {"workers": {str(self.index): entry.to_wire()}}
        patch_status(self.api, MIGRATION, self.namespace, self.name, patch, timeout=REQUEST_TIMEOUT_SECONDS)

    def report_validation(self, status: ValidationWorkerStatus) -> None:
        """Patch this validation pod's entry, `status.validationWorkers.<index>`."""
        entry = status.model_copy(update={"updated_at": now_rfc3339()})
        patch = {"validationWorkers": {str(self.index): entry.to_wire()}}
        patch_status(self.api, MIGRATION, self.namespace, self.name, patch, timeout=REQUEST_TIMEOUT_SECONDS)

    def report_final(self, status: WorkerStatus | ValidationWorkerStatus) -> None:
        """The pod's last report, retried while the API server is unavailable; never raises
        (the outcome is the exit code, whatever became of the report)."""

        def send() -> None:
            if isinstance(status, ValidationWorkerStatus):
                self.report_validation(status)
            else:
                self.report(status)

        try:
            call_with_backoff(send, what="final status report", give_up_after=FINAL_REPORT_SECONDS)
        except Exception as exc:
            log.error(
                "final status report not delivered; ending with the pod's exit code", error=first_line(exc)
            )

    def suspended(self) -> bool:
        """spec.suspend, read from the API at most every 2 s (the cached value in between)."""
        with self._lock:
            now = time.monotonic()
            if now - self._last_suspend_check >= SUSPEND_READ_INTERVAL_SECONDS:
                obj = get_object(
                    self.api, MIGRATION, self.namespace, self.name, timeout=REQUEST_TIMEOUT_SECONDS
                )
                self._suspended = bool((obj.get("spec") or {}).get("suspend"))
                self._last_suspend_check = now
            return self._suspended


def table_entries(
    rows: dict[str, int], estimates: dict[str, int], states: dict[str, TableState]
) -> list[TableStatus]:
    return [
        TableStatus(
            name=name,
            state=states.get(name, TableState.PENDING),
            rows_copied=rows.get(name, 0),
            rows_estimated=estimates.get(name, 0),
        )
        for name in sorted(set(rows) | set(estimates))
    ]
