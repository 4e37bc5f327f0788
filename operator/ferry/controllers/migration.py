"""Migration handlers: parse, hand the object to the MigrationReconciler, post its events.

Reconciles run on create/resume/spec change and on a short timer (progress aggregation and
Job supervision) that stops once the Migration is finished. kopf is used the way it works:
- nothing is raised on the success path: a step due within a second (Complete → Validating)
  runs in the same call, a later one waits for the timer (`not_before`);
- the reconciler classifies every error into status itself (Stalled after a bounded number
  of tries), so no handler error becomes kopf's endless retry or an Error event;
- events go through `kopf.event`, which the operator's posting level does not filter;
- per-object state (a lock so a timer tick and an update never reconcile at once, the time
  of the next due step, the status as last written and the basis of the current plan) lives in
  the object's `kopf.Memo`, which kopf forgets when the object is gone. All durable state lives
  in the status.

Idle cost: one API client for the process (`shared_api_client`); the Project of a namespace,
a Migration's two DatabaseConnections and its MigrationApprovals come from kopf's indexes, not
a listing or a read; a status patch carries only the fields that changed, and none is sent
when nothing did; the timer stops for a finished Migration and for one that gave up (kopf
stops a timer whose `when` no longer matches); a step that names no time to come back (a
Stalled Migration) is looked at again after IDLE_RECHECK_SECONDS, not on every tick.

What a Migration waits on wakes it: a tick inside `not_before` still reconciles when the
Migration's approvals in the index changed since its last reconcile (one approved, or an
approval deleted), so `kubectl ferry approve` takes effect within a tick, not a re-check.
"""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from typing import Any

import kopf
from pydantic import ValidationError

from ferry.api import conditions as c
from ferry.api.base import now_rfc3339
from ferry.api.kinds import GROUP, MIGRATION, VERSION
from ferry.api.migration import TERMINAL, MigrationSpec, MigrationStatus, StatusEvent
from ferry.api.spec_errors import spec_problems
from ferry.cdc.lifecycle import CdcCaptureOps
from ferry.kube.client import shared_api_client
from ferry.kube.notification_queue import DELIVERIES, Delivery
from ferry.kube.status import patch_status
from ferry.observability.crashpoint import crash_point
from ferry.observability.metrics import (
    forget_migration,
    record_connection_use,
    record_migration,
    record_reconcile,
)
from ferry.services.approval_index import ApprovalIndex, approvals_changed, approvals_seen
from ferry.services.approvals import AUTHOR_ANNOTATION
from ferry.services.connection_refs import ConnectionIndex
from ferry.services.deletion import DELETE_ROLLBACK_GIVE_UP_SECONDS, RollbackBlocked
from ferry.services.governance import ProjectIndex, governance_from_index
from ferry.services.migration import MAX_RECONCILE_ERRORS, MigrationReconciler
from ferry.services.migration_kube import KubeMigrationPorts
from ferry.services.migration_ports import MigrationContext
from ferry.services.notify import Snapshot, content_type, notices, payload
from ferry.services.status_diff import owned_status

IN_PROCESS_SECONDS = 1.0  # steps due sooner than this run at once, in the same handler call
MAX_STEPS_PER_CALL = 10  # ... but never more than this many, so one object cannot hog a worker thread
DELETE_RETRY_SECONDS = 15
IDLE_RECHECK_SECONDS = 60.0  # a step that names no time to come back (Stalled): looked at this often


def _ports(kwargs: dict[str, Any]) -> KubeMigrationPorts:
    """The real ports over the process's one API client, with governance and connections from
    kopf's indexes (which kopf hands every handler by the index functions' names)."""
    projects: ProjectIndex = kwargs["project_index"]
    connections: ConnectionIndex = kwargs["connection_index"]
    approvals: ApprovalIndex = kwargs["approval_index"]
    return KubeMigrationPorts(
        shared_api_client(),
        CdcCaptureOps(),
        governance=lambda ns: governance_from_index(projects, ns),
        connections=connections,
        approvals=approvals,
    )


def _context(body: kopf.Body, memo: kopf.Memo | None = None) -> MigrationContext:
    meta = body.get("metadata", {})
    status = MigrationStatus.model_validate(dict(body.get("status", {})))
    remembered = memo if memo is not None and memo.get("uid") == meta["uid"] else {}
    return MigrationContext(
        name=meta["name"],
        namespace=meta["namespace"],
        uid=meta["uid"],
        generation=int(meta.get("generation", 0)),
        spec=MigrationSpec.model_validate(dict(body.get("spec", {}))),
        status=status,
        read=owned_status(status),
        written=remembered.get("written"),
        plan_basis=remembered.get("plan_basis"),
        author=(meta.get("annotations") or {}).get(AUTHOR_ANNOTATION),
    )


def _remember(memo: kopf.Memo, ctx: MigrationContext) -> None:
    memo.update(uid=ctx.uid, written=ctx.written, plan_basis=ctx.plan_basis)


def _post(body: kopf.Body, events: list[StatusEvent]) -> None:
    for event in events:
        kopf.event(body, type=event.type, reason=event.reason, message=event.message)


def _notify(
    ctx: MigrationContext, before: Snapshot, events: list[StatusEvent], indexes: dict[str, Any]
) -> None:
    """Queue the transitions this reconcile made for the Project's and the Migration's own
    webhooks; delivery runs off the reconcile path (ferry.kube.notification_queue)."""
    items = notices(before, events, ctx.status, ctx.namespace, ctx.name, now_rfc3339())
    sinks = [
        *governance_from_index(indexes["project_index"], ctx.namespace).notifications,
        *ctx.spec.notifications,
    ]
    for item in items:
        for sink in sinks:
            if item.heard_by(sink):
                body = payload(item, sink.format)
                kind = content_type(sink.format)
                DELIVERIES.submit(Delivery(ctx.namespace, ctx.name, sink, item.event.value, body, kind))


def predates_own_write(ctx: MigrationContext) -> bool:
    """True when the body handed to this call is older than this process's own last status write:
    its phase differs from the phase written (only the operator writes the phase). A timer tick
    can carry a body from before a write whose watch event has not arrived yet (a busy API
    server, a loaded node); reconciling it would act on the past: plan again after the copy Job
    was created, and give that Job a plan hash its workers refuse. The watch brings the newer
    body, and the timer comes back."""
    written = (ctx.written or {}).get("phase")
    return written is not None and written != ctx.status.phase.value


def _refuse_spec(body: kopf.Body, memo: kopf.Memo, exc: ValidationError) -> None:
    """A spec the models refuse got past the CRD (stored under an older one): Stalled with
    InvalidSpec and every field named, written once per generation; no exception, which kopf
    would retry on every tick."""
    meta = body.get("metadata", {})
    generation = int(meta.get("generation", 0))
    if memo.get("refused_generation") == generation:
        return
    status = MigrationStatus.model_validate(dict(body.get("status", {})))
    message = spec_problems(exc)
    status.mark_stalled(c.INVALID_SPEC, message, generation)
    status.observed_generation = generation
    patch_status(shared_api_client(), MIGRATION, meta["namespace"], meta["name"], status.to_wire())
    kopf.event(body, type="Warning", reason=c.INVALID_SPEC, message=message)
    memo["refused_generation"] = generation


def _reconcile(body: kopf.Body, memo: kopf.Memo, indexes: dict[str, Any], *, tick: bool) -> None:
    try:
        ctx = _context(body, memo)
    except ValidationError as exc:
        _refuse_spec(body, memo, exc)
        return
    if ctx.status.phase in TERMINAL and ctx.status.observed_generation == ctx.generation:
        return
    seen = approvals_seen(indexes["approval_index"], ctx.namespace, ctx.name)
    if (
        tick
        and time.monotonic() < memo.get("not_before", 0.0)
        and not approvals_changed(memo.get("approvals_seen"), seen)
    ):
        return  # the last reconcile asked to be left alone for a while (e.g. awaiting approval)
    lock: threading.Lock = memo.setdefault("lock", threading.Lock())
    if not lock.acquire(blocking=False):
        return  # another handler is reconciling this object right now; the timer comes back
    try:
        ctx = _context(body, memo)  # what was written as of now, the lock held: a call just done counts
        if predates_own_write(ctx):
            return
        # Remembered before the reconcile reads them: a change during it wakes the next tick.
        memo["approvals_seen"] = approvals_seen(indexes["approval_index"], ctx.namespace, ctx.name)
        reconciler = MigrationReconciler(_ports(indexes))
        before, made = Snapshot.of(ctx.status), []
        try:
            for _ in range(MAX_STEPS_PER_CALL):
                started = time.monotonic()
                outcome = reconciler.reconcile(ctx)
                record_reconcile(time.monotonic() - started)
                _post(body, outcome.events)
                made.extend(outcome.events)
                due = outcome.requeue_after
                if due is None or due >= IN_PROCESS_SECONDS or ctx.status.phase in TERMINAL:
                    break
                time.sleep(due)
        finally:
            _remember(memo, ctx)
        _notify(ctx, before, made, indexes)
        record_migration(ctx.namespace, ctx.name, ctx.status)
        refs = (ctx.spec.source.connection_ref.name, ctx.spec.target.connection_ref.name)
        record_connection_use(ctx.namespace, ctx.name, refs, ctx.status)
        due = outcome.requeue_after if outcome.requeue_after is not None else IDLE_RECHECK_SECONDS
        memo["not_before"] = time.monotonic() + due
    finally:
        lock.release()


def needs_ticks(status: kopf.Status, meta: kopf.Meta, **_: Any) -> bool:
    """The timer's filter: False for a finished Migration and for one that gave up after repeated
    errors (both wait for a spec change, which the update handler sees). kopf re-evaluates it on
    every change of the object and stops the timer when it turns False, so such a Migration
    costs nothing per tick."""
    if status.get("phase") in TERMINAL:
        return False
    gave_up = int(status.get("reconcileErrors") or 0) >= MAX_RECONCILE_ERRORS
    return not (gave_up and status.get("observedGeneration") == meta.get("generation"))


@kopf.on.resume(GROUP, VERSION, MIGRATION.plural)
@kopf.on.create(GROUP, VERSION, MIGRATION.plural)
@kopf.on.update(GROUP, VERSION, MIGRATION.plural, field="spec")
def migration_changed(body: kopf.Body, memo: kopf.Memo, **kwargs: Any) -> None:
    _reconcile(body, memo, kwargs, tick=False)


@kopf.timer(GROUP, VERSION, MIGRATION.plural, interval=2, initial_delay=1, when=needs_ticks)
def migration_tick(body: kopf.Body, memo: kopf.Memo, **kwargs: Any) -> None:
    _reconcile(body, memo, kwargs, tick=True)


@kopf.on.delete(GROUP, VERSION, MIGRATION.plural)
def migration_deleted(
    body: kopf.Body, memo: kopf.Memo, runtime: timedelta, retry: int, **kwargs: Any
) -> None:
    """spec.rollback.onDelete: keep, truncate, or drop the tables this migration created.
    While a database cannot be reached kopf retries this handler every DELETE_RETRY_SECONDS;
    `runtime` (kopf's time since the first try, kept in the object's annotations across
    operator restarts) bounds the wait (ferry.services.migration.DELETE_ROLLBACK_GIVE_UP_SECONDS).
    The first blocked try says so in a Warning event (kopf's own retry is only in the operator's
    log), so whoever waits on `kubectl delete` sees why and for how long at most."""
    reconciler = MigrationReconciler(_ports(kwargs))
    try:
        ctx = _context(body)
    except ValidationError as exc:
        # Nothing can be rolled back by a spec that cannot be read; the deletion goes ahead.
        kopf.event(
            body,
            type="Warning",
            reason=c.INVALID_SPEC,
            message=f"no rollback on delete: {spec_problems(exc)}",
        )
        return
    try:
        event = reconciler.finalize(ctx, waited=runtime.total_seconds())
    except RollbackBlocked as exc:
        if retry == 0:
            message = (
                f"deletion waits for the rollback on delete: {exc}; retried every {DELETE_RETRY_SECONDS}s, "
                f"given up after {DELETE_ROLLBACK_GIVE_UP_SECONDS:.0f}s (then the Migration is removed and "
                f"a {c.ROLLBACK_ABANDONED} event names what was left)"
            )
            kopf.event(body, type="Warning", reason=c.ROLLBACK_WAITING, message=message)
        # May heal (the target comes back): kopf retries the deletion handler after the delay.
        raise kopf.TemporaryError(f"rollback on delete waits: {exc}", delay=DELETE_RETRY_SECONDS) from None
    crash_point("delete-rolled-back")
    if event is not None:
        _post(body, [event])
    memo.clear()
    forget_migration(body.metadata.namespace or "", body.metadata.name or "")
