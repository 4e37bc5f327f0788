"""Migration handlers: parse, hand the object to the MigrationReconciler, post its events.

Reconciles run on create/resume/spec change and on a short timer (progress aggregation and
Job supervision) that stops once the Migration is finished. kopf is used the way it works:
- nothing is raised on the success path: a step due within a second (Complete → Validating)
  runs in the same call, a later one waits for the timer (`not_before`);
- the reconciler classifies every error into status itself (Stalled after a bounded number
  of tries), so no handler error becomes kopf's endless retry or an Error event;
- events go through `kopf.event`, which the operator's posting level does not filter;
- per-object state (a lock so a timer tick and an update never reconcile at once, and the
  time of the next due step) lives in the object's `kopf.Memo`, which kopf forgets when the
  object is gone. All durable state lives in the status.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import kopf
from kubernetes import client

from ferry.api.base import now_rfc3339
from ferry.api.kinds import GROUP, MIGRATION, VERSION
from ferry.api.migration import TERMINAL, MigrationSpec, MigrationStatus, StatusEvent
from ferry.cdc.lifecycle import CdcCaptureOps
from ferry.kube.client import load_api_client
from ferry.kube.notifications import deliver
from ferry.observability.metrics import forget_migration, record_migration
from ferry.services.approvals import AUTHOR_ANNOTATION
from ferry.services.governance import governance_for
from ferry.services.migration import MigrationReconciler, RollbackBlocked
from ferry.services.migration_kube import KubeMigrationPorts
from ferry.services.migration_ports import MigrationContext
from ferry.services.notify import Snapshot, notice, payload

IN_PROCESS_SECONDS = 1.0  # steps due sooner than this run at once, in the same handler call
MAX_STEPS_PER_CALL = 10  # ... but never more than this many, so one object cannot hog a worker thread
DELETE_RETRY_SECONDS = 15


def _context(body: kopf.Body) -> MigrationContext:
    meta = body.get("metadata", {})
    return MigrationContext(
        name=meta["name"],
        namespace=meta["namespace"],
        uid=meta["uid"],
        generation=int(meta.get("generation", 0)),
        spec=MigrationSpec.model_validate(dict(body.get("spec", {}))),
        status=MigrationStatus.model_validate(dict(body.get("status", {}))),
        author=(meta.get("annotations") or {}).get(AUTHOR_ANNOTATION),
    )


def _post(body: kopf.Body, events: list[StatusEvent]) -> None:
    for event in events:
        kopf.event(body, type=event.type, reason=event.reason, message=event.message)


def _notify(api: client.ApiClient, body: kopf.Body, ctx: MigrationContext, before: Snapshot) -> None:
    """Tell the Project's webhooks about a transition this reconcile made (best effort)."""
    item = notice(before, ctx.status, ctx.namespace, ctx.name, now_rfc3339())
    if item is None:
        return
    notifications = governance_for(api, ctx.namespace).notifications
    if not notifications:
        return
    bodies = {n.name: payload(item, n.format) for n in notifications}
    for failure in deliver(api, ctx.namespace, notifications, item.event.value, bodies):
        kopf.event(body, type="Warning", reason="NotificationFailed", message=f"{item.event}: {failure}")


def _reconcile(body: kopf.Body, memo: kopf.Memo, *, tick: bool) -> None:
    ctx = _context(body)
    if ctx.status.phase in TERMINAL and ctx.status.observed_generation == ctx.generation:
        return
    if tick and time.monotonic() < memo.get("not_before", 0.0):
        return  # the last reconcile asked to be left alone for a while (e.g. awaiting approval)
    lock: threading.Lock = memo.setdefault("lock", threading.Lock())
    if not lock.acquire(blocking=False):
        return  # another handler is reconciling this object right now; the timer comes back
    try:
        with load_api_client() as api:
            reconciler = MigrationReconciler(KubeMigrationPorts(api, CdcCaptureOps()))
            before = Snapshot.of(ctx.status)
            for _ in range(MAX_STEPS_PER_CALL):
                outcome = reconciler.reconcile(ctx)
                _post(body, outcome.events)
                due = outcome.requeue_after
                if due is None or due >= IN_PROCESS_SECONDS or ctx.status.phase in TERMINAL:
                    break
                time.sleep(due)
            _notify(api, body, ctx, before)
        record_migration(ctx.namespace, ctx.name, ctx.status)
        memo["not_before"] = time.monotonic() + (outcome.requeue_after or 0.0)
    finally:
        lock.release()


def _unfinished(status: kopf.Status, **_: Any) -> bool:
    return status.get("phase") not in TERMINAL


@kopf.on.resume(GROUP, VERSION, MIGRATION.plural)
@kopf.on.create(GROUP, VERSION, MIGRATION.plural)
@kopf.on.update(GROUP, VERSION, MIGRATION.plural, field="spec")
def migration_changed(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    _reconcile(body, memo, tick=False)


@kopf.timer(GROUP, VERSION, MIGRATION.plural, interval=2, initial_delay=1, when=_unfinished)
def migration_tick(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    _reconcile(body, memo, tick=True)


@kopf.on.delete(GROUP, VERSION, MIGRATION.plural)
def migration_deleted(body: kopf.Body, memo: kopf.Memo, **_: Any) -> None:
    """spec.rollback.onDelete: keep, truncate, or drop the tables this migration created."""
    with load_api_client() as api:
        try:
            event = MigrationReconciler(KubeMigrationPorts(api, CdcCaptureOps())).finalize(_context(body))
        except RollbackBlocked as exc:
            # May heal (the target comes back): kopf retries the deletion handler after the delay.
            raise kopf.TemporaryError(
                f"rollback on delete waits: {exc}", delay=DELETE_RETRY_SECONDS
            ) from None
    if event is not None:
        _post(body, [event])
    memo.clear()
    forget_migration(body.metadata.namespace or "", body.metadata.name or "")
