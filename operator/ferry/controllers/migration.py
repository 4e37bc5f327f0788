"""Migration handlers: parse, hand the object to the MigrationReconciler, post its events.

Reconciles run on create/resume/spec change and on a short timer (progress aggregation and
Job supervision). A per-object lock keeps a timer tick and an update from reconciling the
same Migration at once; all state lives in the object's status, none in memory.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import kopf

from ferry.api.kinds import GROUP, MIGRATION, VERSION
from ferry.api.migration import MigrationSpec, MigrationStatus
from ferry.kube.client import load_api_client
from ferry.observability.metrics import record_migration
from ferry.services.migration import TERMINAL, MigrationContext, MigrationReconciler, ReconcileError
from ferry.services.rollback import RollbackBlocked, roll_back_on_delete

RETRY_DELAY_SECONDS = 10
_locks: dict[str, threading.Lock] = {}
# Timer ticks come every 2 s; a reconcile that planned (discovering both schemas) asks for a
# longer pause. Spec changes are reconciled at once regardless. Memory only: after a restart
# the first tick simply reconciles.
_not_before: dict[str, float] = {}
_locks_guard = threading.Lock()


def _lock_for(uid: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(uid, threading.Lock())


def _context(body: kopf.Body) -> MigrationContext:
    meta = body.get("metadata", {})
    return MigrationContext(
        name=meta["name"],
        namespace=meta["namespace"],
        uid=meta["uid"],
        generation=int(meta.get("generation", 0)),
        spec=MigrationSpec.model_validate(dict(body.get("spec", {}))),
        status=MigrationStatus.model_validate(dict(body.get("status", {}))),
    )


def _reconcile(body: kopf.Body, *, tick: bool) -> None:
    ctx = _context(body)
    if ctx.status.phase in TERMINAL:
        return
    if tick and time.monotonic() < _not_before.get(ctx.uid, 0.0):
        return  # the last reconcile asked to be left alone for a while (e.g. re-planning)
    lock = _lock_for(ctx.uid)
    if not lock.acquire(blocking=False):
        return  # another handler is reconciling this object right now; the timer comes back
    try:
        with load_api_client() as api:
            try:
                outcome = MigrationReconciler(api).reconcile(ctx)
            except ReconcileError as exc:
                raise kopf.TemporaryError(str(exc), delay=RETRY_DELAY_SECONDS) from exc
        record_migration(ctx.namespace, ctx.name, ctx.status)
        for event_type, reason, message in outcome.events:
            kopf.event(body, type=event_type, reason=reason, message=message)
    finally:
        lock.release()
    _not_before[ctx.uid] = time.monotonic() + (outcome.requeue_after or 0.0)
    if outcome.requeue_after is not None and outcome.requeue_after < 1:
        raise kopf.TemporaryError("continue", delay=outcome.requeue_after)


@kopf.on.resume(GROUP, VERSION, MIGRATION.plural)
@kopf.on.create(GROUP, VERSION, MIGRATION.plural)
@kopf.on.update(GROUP, VERSION, MIGRATION.plural, field="spec")
def migration_changed(body: kopf.Body, **_: Any) -> None:
    _reconcile(body, tick=False)


@kopf.timer(GROUP, VERSION, MIGRATION.plural, interval=2, initial_delay=1)
def migration_tick(body: kopf.Body, **_: Any) -> None:
    _reconcile(body, tick=True)


@kopf.on.delete(GROUP, VERSION, MIGRATION.plural)
def migration_deleted(body: kopf.Body, **_: Any) -> None:
    """spec.rollback.onDelete: keep, truncate, or drop the tables this migration created."""
    ctx = _context(body)
    if ctx.spec.rollback.on_delete.value == "keep":
        return
    with load_api_client() as api:
        try:
            message = roll_back_on_delete(api, ctx)
        except RollbackBlocked as exc:
            raise kopf.TemporaryError(f"rollback on delete waits: {exc}", delay=15) from None
    kopf.info(body, reason="RolledBack", message=message)
