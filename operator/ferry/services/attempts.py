"""What is checked again before each Job attempt: the Project's policy as it is now.

A Migration is admitted once, before its first Job, under the rules of that moment. A retry
or a Job recreated after an operator restart runs later, and so does an online Migration's
follower, started when the copy is done and again after a source schema change, maybe after
the Project tightened its policy (a connection no longer allowed, raw filters forbidden, a
lower maxParallelism, a host or Secret removed from the connection rules). Such an attempt is
not started.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from ferry.api import conditions as c
from ferry.api.base import rfc3339
from ferry.api.migration import JobKind, MigrationSpec, MigrationStatus, Phase, StatusEvent, WorkerState
from ferry.db.outage import says_connection_lost
from ferry.observability.errors import first_line
from ferry.services.gate import check_spec
from ferry.services.migration_ports import MigrationContext, MigrationPorts
from ferry.services.sides import NotReady, resolve_sides

MAX_ATTEMPTS = 3  # Job attempts of a copy (or a follower) before the Migration fails


@dataclass(frozen=True)
class AttemptRefusal:
    reason: str
    message: str


def attempt_refusal(
    ports: MigrationPorts, namespace: str, spec: MigrationSpec, attempt: str
) -> AttemptRefusal | None:
    """Why `attempt` ("attempt 2", "follower job") must not start, or None. A connection that
    is only not Ready yet does not refuse (the attempt's pods wait or fail and are retried);
    one that the connection rules refuse does."""
    prefix = f"{attempt} not started: "
    decision = check_spec(spec, ports.governance(namespace), target_read_only=False)
    if decision is not None:
        return AttemptRefusal(decision.reason, prefix + decision.message)
    sides = resolve_sides(ports, namespace, spec)
    if isinstance(sides, NotReady) and sides.permanent:
        return AttemptRefusal(sides.reason, prefix + sides.message)
    return None


def attempt_failure(st: MigrationStatus) -> tuple[str, str]:
    """What the failed attempt's pods said (first lines, de-duplicated), and the reason:
    DatabaseUnavailable when every one of them lost its database, JobFailed otherwise."""
    failed = [w.message for w in st.workers.values() if w.state == WorkerState.FAILED and w.message]
    if st.job_kind == JobKind.FOLLOWER:
        failed = [st.replication.message] if st.replication and st.replication.message else []
    detail = "; ".join(sorted({first_line(m) for m in failed})) or "worker pods failed"
    lost = failed and all(says_connection_lost(m) for m in failed)
    return detail, c.DATABASE_UNAVAILABLE if lost else c.JOB_FAILED


def schedule_retry(ctx: MigrationContext, now: datetime, detail: str, reason: str) -> StatusEvent:
    """The next attempt, after a backoff of 10 s doubling per attempt; the phase stays (Running,
    or an online Migration's Following or CuttingOver)."""
    st = ctx.status
    delay = 10 * 2 ** (st.attempts - 1)
    st.attempts += 1
    st.next_attempt_time = rfc3339(now + timedelta(seconds=delay))
    message = f"attempt {st.attempts - 1} failed ({detail}); retrying in {delay}s"
    phase = st.phase if st.phase in (Phase.FOLLOWING, Phase.CUTTING_OVER) else Phase.RUNNING
    return st.mark_retry_scheduled(message, ctx.generation, phase, reason)
