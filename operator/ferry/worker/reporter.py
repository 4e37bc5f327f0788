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
from ferry.kube.status import get_object, patch_status
from ferry.services.progress import bounded

SUSPEND_READ_INTERVAL_SECONDS = 2.0  # every unit asks between batches; the API is asked this often


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
        patch_status(
            self.api, MIGRATION, self.namespace, self.name, {"workers": {str(self.index): entry.to_wire()}}
        )

    def suspended(self) -> bool:
        """spec.suspend, read from the API at most every 2 s (the cached value in between)."""
        with self._lock:
            now = time.monotonic()
            if now - self._last_suspend_check >= SUSPEND_READ_INTERVAL_SECONDS:
                obj = get_object(self.api, MIGRATION, self.namespace, self.name)
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
