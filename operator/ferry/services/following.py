"""Online mode's steps of the Migration reconciler: capture, follow, cut over, release.

    Running ──copy Job Complete──> Following ──spec.cutover.requested──> CuttingOver
       (the capture opened                (Ready: the target is kept        (the follower applies up to
        before the copy Job)               current; approval if the          the cutover position, then
                                           Project requires it)              exits 0)
    CuttingOver ──follower Job Complete──> Validating (capture dropped) ──> Succeeded

The follower Job of `status.jobName` (`status.jobKind: follower`) is supervised like the copy
Job by the reconciler (attempts, suspend, a Job deleted behind its back); what is particular to
following is here. The follower writes `status.replication` itself; the operator reads it.
A follower that exits 3 (ferry.kube.worker_job.EXIT_SOURCE_SCHEMA_CHANGED) after writing
`replication.state: SourceSchemaChanged` stalls the Migration until the spec changes.

Every call here is idempotent (the capture's names derive from the Migration UID), so an operator
restart between a step and its status write only repeats the step.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from ferry.api import conditions as c
from ferry.api.base import parse_rfc3339
from ferry.api.migration import (
    CutoverStatus,
    JobKind,
    MigrationMode,
    MigrationSpec,
    Phase,
    ReplicationState,
    ReplicationStatus,
    StatusEvent,
)
from ferry.observability.crashpoint import crash_point
from ferry.services.capture_ops import capture_warning
from ferry.services.migration_ports import MigrationContext, MigrationPorts, Sides
from ferry.services.outcome import Outcome
from ferry.services.planning import PlannedMigration
from ferry.services.sides import NotReady, resolve_sides

HEALTH_CHECK_SECONDS = 30  # how often the operator looks at the capture on the source (one query)
SUSPENDED_MESSAGE = (
    "suspended by spec.suspend; the follower is stopped and the source keeps its change history "
    "(WAL held by the replication slot, or binlogs) until it resumes"
)


def is_online(spec: MigrationSpec) -> bool:
    return spec.mode == MigrationMode.ONLINE


def capture_opened(ctx: MigrationContext) -> bool:
    """Whether a capture may exist on the source: the copy was about to start or went further
    (start_time is saved before the capture is opened, so a crash in between is covered)."""
    return ctx.status.start_time is not None or ctx.status.replication is not None


def open_capture(
    ports: MigrationPorts, ctx: MigrationContext, spec: MigrationSpec, planned: PlannedMigration, sides: Sides
) -> StatusEvent:
    """Before the copy Job: the capture and its start position, so every change the copy might
    miss is in the stream the follower applies afterwards."""
    st = ctx.status
    ports.save_status(ctx)  # start_time first: a delete from here on drops the capture
    position = ports.start_capture(spec, sides, ctx.uid, planned.mappings)
    crash_point("capture-opened")
    st.replication = (st.replication or ReplicationStatus()).model_copy(update={"start_position": position})
    return StatusEvent("Normal", c.CAPTURE_STARTED, f"change capture opened on the source at {position}")


def start_following(ports: MigrationPorts, ctx: MigrationContext, spec: MigrationSpec, out: Outcome) -> None:
    """The copy Job completed: build the keys the follower needs and start its Job (attempt 1)."""
    st, gen = ctx.status, ctx.generation
    sides = resolve_sides(ports, ctx.namespace, spec)
    if isinstance(sides, NotReady):
        out.emit(st.mark_waiting(sides.reason, sides.message, gen, Phase.RUNNING))
        out.requeue_after = sides.retry_after
        return
    ports.prepare_follow(spec, sides, ctx.uid)
    st.job_kind, st.attempts, st.next_attempt_time = JobKind.FOLLOWER, 1, None
    st.job_name = ports.create_follower_job(ctx, spec)
    out.emit(st.mark_following(f"copy done; job {st.job_name} applies the source's changes", gen))


# -- the Job of the current attempt, whichever it runs (the reconciler supervises both alike) ---------


def create_job(ports: MigrationPorts, ctx: MigrationContext, spec: MigrationSpec) -> str:
    if ctx.status.job_kind == JobKind.FOLLOWER:
        return ports.create_follower_job(ctx, spec)
    return ports.create_job(ctx, spec)


def back_to_work(ctx: MigrationContext, prefix: str = "") -> StatusEvent | None:
    """The phase the Job's work belongs in (a resume, a new attempt, errors cleared)."""
    st = ctx.status
    if st.job_kind == JobKind.FOLLOWER:
        return resumed(ctx, f"{prefix}job {st.job_name} is following")
    return st.mark_running(f"{prefix}job {st.job_name} is copying", ctx.generation)


def mark_suspended(ctx: MigrationContext, outside_window: str | None = None) -> StatusEvent | None:
    """Suspended by the spec, or (`outside_window`: when the next window opens) by the schedule."""
    follower = ctx.status.job_kind == JobKind.FOLLOWER
    if outside_window is not None:
        holds = " (the source keeps its change history meanwhile)" if follower else ""
        message = (
            f"outside the maintenance windows; resumes at {outside_window}{holds}; progress is checkpointed"
        )
        return ctx.status.mark_suspended(ctx.generation, message, c.OUTSIDE_WINDOW)
    if follower:
        return ctx.status.mark_suspended(ctx.generation, SUSPENDED_MESSAGE)
    return ctx.status.mark_suspended(ctx.generation)


def resumed(ctx: MigrationContext, message: str) -> StatusEvent | None:
    """Back to the phase the follower was in (a resume, a new attempt, errors cleared)."""
    st, gen = ctx.status, ctx.generation
    if st.cutover is not None and st.cutover.requested_at:
        return st.mark_cutting_over(message, gen)
    return st.mark_following(message, gen)


def schema_change_stall(ctx: MigrationContext) -> StatusEvent | None:
    """The follower ended because a followed source table changed: Stalled, naming it. Or because
    `spec.online.apply: native` cannot run: Stalled, saying why."""
    st = ctx.status
    replication = st.replication
    if replication is not None and replication.state == ReplicationState.NATIVE_APPLY_UNAVAILABLE:
        why = replication.message or "native apply is not possible"
        message = (
            f"{why}. Fix it, then change the spec (e.g. kubectl ferry suspend, then resume) to follow again"
        )
        return st.mark_stalled(c.NATIVE_APPLY_UNAVAILABLE, message, ctx.generation)
    change = (replication.message if replication else None) or "a followed table changed"
    message = (
        f"the source's structure changed: {change}; the follower stopped. Make the target match (or "
        "exclude the table), then change the spec (e.g. kubectl ferry suspend, then resume) to follow again"
    )
    return st.mark_stalled(c.SOURCE_SCHEMA_CHANGED, message, ctx.generation)


def ended_by_schema_change(ctx: MigrationContext) -> bool:
    replication = ctx.status.replication
    return replication is not None and replication.state in (
        ReplicationState.SOURCE_SCHEMA_CHANGED,
        ReplicationState.NATIVE_APPLY_UNAVAILABLE,
    )


def stalled_by_schema_change(ctx: MigrationContext) -> bool:
    stalled = ctx.status.condition(c.STALLED)
    return (
        stalled is not None
        and stalled.status == "True"
        and stalled.reason in (c.SOURCE_SCHEMA_CHANGED, c.NATIVE_APPLY_UNAVAILABLE)
    )


def follow_again(ports: MigrationPorts, ctx: MigrationContext, spec: MigrationSpec, out: Outcome) -> None:
    """After a SourceSchemaChanged stall, a spec change starts a new follower attempt."""
    st = ctx.status
    st.attempts += 1
    st.job_name = ports.create_follower_job(ctx, spec)
    out.emit(resumed(ctx, f"spec changed; attempt {st.attempts}: job {st.job_name} follows again"))


def watch(ports: MigrationPorts, ctx: MigrationContext, spec: MigrationSpec, out: Outcome) -> None:
    """The follower runs: start the cutover when asked, note when the follower took its position."""
    st = ctx.status
    if st.phase == Phase.FOLLOWING and spec.cutover.requested:
        _request_cutover(ports, ctx, spec, out)
    cutover, replication = st.cutover, st.replication
    if cutover and not cutover.started_at and replication and replication.cutover_position:
        cutover.started_at = _format(ports.now())


def _request_cutover(ports: MigrationPorts, ctx: MigrationContext, spec: MigrationSpec, out: Outcome) -> None:
    st, gen = ctx.status, ctx.generation
    governance = ports.governance(ctx.namespace)
    if governance.policy.cutover_requires_approval and not spec.approval.cutover:
        where = f"Project {governance.project}" if governance.project else "the policy"
        message = (
            f"cutover requested; {where} requires approval: set spec.approval.cutover: true "
            f"(kubectl ferry cutover mig/{ctx.name} -n {ctx.namespace} --approve)"
        )
        out.emit(st.mark_following(message, gen, reason=c.CUTOVER_AWAITING_APPROVAL))
        return
    sides = resolve_sides(ports, ctx.namespace, spec)
    if isinstance(sides, NotReady):
        return  # the next tick asks again; the follower keeps following meanwhile
    ports.request_cutover(spec, sides, ctx.uid)
    st.cutover = CutoverStatus(requested_at=_format(ports.now()))
    limit = spec.cutover.max_lag_seconds
    frozen = "; the source's followed tables are frozen" if spec.cutover.freeze_source else ""
    message = (
        f"cutover requested: applying changes up to the source's position once the lag is at most {limit}s"
    )
    out.emit(st.mark_cutting_over(message + frozen, gen))


def finish(ports: MigrationPorts, ctx: MigrationContext, spec: MigrationSpec, out: Outcome) -> None:
    """The follower Job completed (it exits 0 only once the cutover position is applied): drop
    the capture, record where the cutover applied up to, and validate."""
    st, gen = ctx.status, ctx.generation
    sides = resolve_sides(ports, ctx.namespace, spec)
    if isinstance(sides, NotReady):
        out.emit(st.mark_waiting(sides.reason, sides.message, gen, st.phase))
        out.requeue_after = sides.retry_after
        return
    record = ports.follow_record(spec, sides, ctx.uid)
    dropped = ports.drop_capture(spec, sides, ctx.uid, "cut-over")
    position = record.cutover_position or (st.replication.cutover_position if st.replication else None)
    cutover = st.cutover or CutoverStatus()
    st.cutover = cutover.model_copy(update={"position": position})
    if dropped:
        out.events.append(StatusEvent("Normal", c.CAPTURE_DROPPED, f"dropped {dropped} from the source"))
    out.emit(st.mark_validating(gen))
    out.requeue_after = 0.5


def cutover_completed(ctx: MigrationContext, completed_at: datetime) -> str:
    """Fill status.cutover's end; the summary's prefix."""
    cutover = ctx.status.cutover or CutoverStatus()
    done = _format(completed_at)
    duration = None
    if cutover.requested_at:
        duration = round((completed_at - parse_rfc3339(cutover.requested_at)).total_seconds(), 1)
    ctx.status.cutover = cutover.model_copy(update={"completed_at": done, "duration_seconds": duration})
    return f"cut over at {cutover.position or 'the requested position'}; "


def check_capture(ports: MigrationPorts, ctx: MigrationContext, spec: MigrationSpec, out: Outcome) -> None:
    """Every HEALTH_CHECK_SECONDS while a follower exists (running, suspended, retrying): the
    capture's hold on the source, as the CaptureHealthy condition (and a Warning on the flip)."""
    st = ctx.status
    now = ports.now()
    replication = st.replication or ReplicationStatus()
    last = replication.health_checked_at
    if last and now - parse_rfc3339(last) < timedelta(seconds=HEALTH_CHECK_SECONDS):
        return
    sides = resolve_sides(ports, ctx.namespace, spec)
    if isinstance(sides, NotReady):
        return
    health = ports.capture_health(spec, sides, ctx.uid)
    st.replication = replication.model_copy(update={"health_checked_at": _format(now)})
    warning = capture_warning(health)
    fine = f"{health.name}: " + (
        f"{health.retained_bytes:,} bytes of change history held"
        if health.retained_bytes is not None
        else "ok"
    )
    out.emit(st.mark_capture_health(warning is None, warning or fine, ctx.generation))


def release(ports: MigrationPorts, ctx: MigrationContext, spec: MigrationSpec, outcome: str) -> str:
    """Drop the capture when the Migration fails or rolls back (a slot left behind keeps WAL
    forever); a note for the message."""
    if not is_online(spec) or not capture_opened(ctx):
        return ""
    sides = resolve_sides(ports, ctx.namespace, spec)
    if isinstance(sides, NotReady):
        return (
            "; the change capture could not be dropped from the source (not reachable): deleting the "
            "Migration drops it"
        )
    dropped = ports.drop_capture(spec, sides, ctx.uid, outcome)
    return f"; dropped {dropped} from the source" if dropped else ""


def _format(value: datetime) -> str:
    return value.replace(microsecond=0).isoformat().replace("+00:00", "Z")
