"""From the worker pods' reports to per-connection figures: the sessions a Migration's pods hold
to each DatabaseConnection now, and the reconnects they made since the operator last looked. The
pods: copy workers (`status.workers.<index>.sessions`), validation pods
(`status.validationWorkers.<index>.sessions`) and an online Migration's follower
(`status.replication.sessions`).

Sessions count only while the Migration is Running or Suspended (the phases in which copy
workers exist; a suspended one's pods hold theirs until the Job is suspended) and only from
workers that still copy (or wait) and reported within FRESH_SECONDS: a pod that was killed
(OOM, node lost) cannot report its sessions gone, and its last report must not count forever.
While it is Validating, the validation pods' entries (`status.validationWorkers`) of the
current run count the same way (they report their sessions, and a heartbeat, too); they do not
reconnect (a lost session fails the pod, and the Job retries the index). While it is Following
or CuttingOver (and Suspended while its Job is the follower's: the pod holds its sessions until it
stops), the follower's report counts the same way, while it says it follows (a report of how it
ended, CutOver, Stopped, Failed, ..., holds none). The follower runs only after the copy Job
completed, so the copy workers and the follower never count at once.

Reconnects: each pod counts its own from 0, and a new pod (a retry, a new attempt) starts again
at 0, so the operator adds what each pod's count grew by since it last saw that pod (keyed by the
worker index and the pod's name). A Migration this operator process has not seen before (it just
started, or took over as leader) sets the baseline and adds nothing: a counter that restarts at 0
must not count a whole run's reconnects again as new ones. A pod that appears later is new, so
all its reconnects count. A reconnect a pod made after its last report and before it died is
never seen (its count dies with it). The follower is one more such pod (key "follower").
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import UTC, datetime

from ferry.api.base import parse_rfc3339
from ferry.api.migration import (
    JobKind,
    MigrationStatus,
    Phase,
    ReplicationState,
    ReplicationStatus,
    WorkerState,
    WorkerStatus,
)
from ferry.api.worker_figures import WorkerSessions

FRESH_SECONDS = 30.0  # workers report every 2 s; a report older than this is a pod that is gone
_HOLDING = frozenset({WorkerState.RUNNING, WorkerState.RECONNECTING, WorkerState.THROTTLED,
                      WorkerState.SUSPENDED})  # fmt: skip
_FOLLOWING = frozenset({ReplicationState.CATCHING_UP, ReplicationState.FOLLOWING,
                        ReplicationState.CUTTING_OVER})  # fmt: skip
SIDES = ("source", "target")
FOLLOWER_KEY = "follower"  # the follower's entry among the workers' indexes in the reconnect tally


def follower_holds(status: MigrationStatus) -> bool:
    """Whether the Migration is in a phase its follower pod runs in."""
    if status.phase in (Phase.FOLLOWING, Phase.CUTTING_OVER):
        return True
    return status.phase == Phase.SUSPENDED and status.job_kind == JobKind.FOLLOWER


def held_sessions(status: MigrationStatus, now: datetime | None = None) -> dict[str, int]:
    """Sessions per side ("source", "target") the Migration's copy, validation or follower pods
    hold now."""
    held = dict.fromkeys(SIDES, 0)
    reports: list[tuple[WorkerSessions | None, str | None]] = []
    if follower_holds(status):
        follower = status.replication
        if follower is not None and follower.state in _FOLLOWING:
            reports = [(follower.sessions, follower.updated_at)]
    elif status.phase in (Phase.RUNNING, Phase.SUSPENDED):
        reports = [(w.sessions, w.updated_at) for w in status.workers.values() if w.state in _HOLDING]
    elif status.phase == Phase.VALIDATING:
        run = status.validation.run if status.validation else 0
        reports = [
            (w.sessions, w.updated_at)
            for w in status.validation_workers.values()
            if w.state == "running" and w.run == run
        ]
    now = now or datetime.now(UTC)
    for sessions, updated_at in reports:
        if sessions is None or not updated_at:
            continue
        try:
            age = (now - parse_rfc3339(updated_at)).total_seconds()
        except (ValueError, TypeError):  # not a time (or no zone): not as a pod writes it
            continue
        if age > FRESH_SECONDS:
            continue
        held["source"] += sessions.source
        held["target"] += sessions.target
    return held


class ReconnectTally:
    """What each Migration's workers' reconnect counts were when the operator last looked."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seen: dict[tuple[str, str], dict[tuple[str, str, str], int]] = {}

    def new_reconnects(
        self,
        namespace: str,
        migration: str,
        workers: Mapping[str, WorkerStatus],
        follower: ReplicationStatus | None = None,
    ) -> dict[str, int]:
        """Reconnects per side made since the last call for this Migration (the module docstring):
        the copy workers' and the follower's (validation pods do not reconnect)."""
        added = dict.fromkeys(SIDES, 0)
        reports = [(index, w.pod, w.sessions) for index, w in workers.items()]
        if follower is not None:
            reports.append((FOLLOWER_KEY, follower.pod, follower.sessions))
        with self._lock:
            known = (namespace, migration) in self._seen
            before = self._seen.get((namespace, migration), {})
            now: dict[tuple[str, str, str], int] = {}
            for index, pod, sessions in reports:
                if sessions is None:
                    continue
                counts = {"source": sessions.source_reconnects, "target": sessions.target_reconnects}
                for side, count in counts.items():
                    key = (index, pod or "", side)
                    now[key] = count
                    last = before.get(key)
                    if last is None:
                        added[side] += count if known else 0
                    elif count >= last:
                        added[side] += count - last
                    elif not pod:  # a count that fell: a new pod that did not say its name
                        added[side] += count
            self._seen[(namespace, migration)] = now
        return added

    def forget(self, namespace: str, migration: str) -> None:
        with self._lock:
            self._seen.pop((namespace, migration), None)


TALLY = ReconnectTally()
