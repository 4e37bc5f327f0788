"""Migration status: what a Migration has done, and the named transitions that change it.

Phase, the standard conditions (Ready, Reconciling, Stalled) and `observedGeneration` move
together, only through the `mark_*` methods below (atlas-operator's `SetReady` /
`SetNotReady`, CloudNativePG's `SetAsReady`), so no code path can set a phase and forget a
condition. Each transition returns the Event a person would want to see for it (or None when
nothing changed worth telling); the caller posts it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Literal

from pydantic import Field

from ferry.api import conditions as c
from ferry.api.base import ConditionedStatus, StatusModel, rfc3339
from ferry.api.migration_online_status import CutoverStatus as CutoverStatus  # re-exported
from ferry.api.migration_online_status import ReplicationState as ReplicationState
from ferry.api.migration_online_status import ReplicationStatus as ReplicationStatus
from ferry.api.migration_operations import ThrottleGuard
from ferry.api.migration_validation import ValidationStatus, ValidationWorkerStatus
from ferry.api.phase_history import MAX_SPANS, PhaseSpan, entered
from ferry.api.plan_status import ApprovalEntry as ApprovalEntry  # re-exported where the status lives
from ferry.api.plan_status import PlanOperationSummary as PlanOperationSummary
from ferry.api.plan_status import PlanStatus as PlanStatus
from ferry.api.resources import JobPlacement, ResourceRequirements
from ferry.api.worker_figures import EarlierPods as EarlierPods  # re-exported where the status lives
from ferry.api.worker_figures import MigrationUsage as MigrationUsage
from ferry.api.worker_figures import PodFigures as PodFigures
from ferry.api.worker_figures import WorkerSessions as WorkerSessions


class Phase(StrEnum):
    PENDING = "Pending"
    PLANNING = "Planning"
    AWAITING_APPROVAL = "AwaitingApproval"
    RUNNING = "Running"
    FOLLOWING = "Following"  # online: the copy is done, changes are applied as the source commits
    CUTTING_OVER = "CuttingOver"  # online: applying up to the cutover position, then the follower ends
    VALIDATING = "Validating"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    SUSPENDED = "Suspended"
    ROLLING_BACK = "RollingBack"
    ROLLED_BACK = "RolledBack"


TERMINAL = frozenset({Phase.SUCCEEDED, Phase.FAILED, Phase.ROLLED_BACK})


class TableState(StrEnum):
    PENDING = "pending"
    COPYING = "copying"
    DONE = "done"
    FAILED = "failed"
    VALIDATED = "validated"


class JobKind(StrEnum):
    """What the Job in `status.jobName` runs: the initial copy, or (online) the follower."""

    COPY = "copy"
    FOLLOWER = "follower"


class WorkerState(StrEnum):
    RUNNING = "running"
    RECONNECTING = "reconnecting"  # a database went away; units wait for it with backoff (message: why)
    SUSPENDED = "suspended"
    THROTTLED = "throttled"  # copy.throttle.guard holds new batches (message: the value and threshold)
    DONE = "done"
    FAILED = "failed"


EventType = Literal["Normal", "Warning"]


@dataclass(frozen=True)
class StatusEvent:
    """A Kubernetes Event a transition asks the controller to post."""

    type: EventType
    reason: str
    message: str


class ProgressStatus(StatusModel):
    """How far the copy got, over all workers."""

    tables_total: int = Field(default=0, description="Tables to copy.")
    tables_done: int = Field(default=0, description="Tables copied.")
    rows_copied: int = Field(default=0, description="Rows copied so far.")
    rows_estimated: int = Field(default=0, description="Rows to copy, from the source's statistics.")
    percent: float = Field(default=0.0, ge=0, le=100, description="rowsCopied of rowsEstimated, in percent.")
    percent_text: str | None = Field(
        default=None, description="percent as text ('42.5%'), for printer columns."
    )
    rows_per_second: float = Field(default=0.0, description="The current copy rate, over all workers.")
    bytes_copied: int = Field(
        default=0, description="Bytes read from the source by the run's copy worker pods (every attempt)."
    )
    worker_cpu_seconds: float = Field(
        default=0.0,
        description="CPU time of the run's copy worker pods (every attempt); status.usage has every kind.",
    )
    eta_seconds: int | None = Field(default=None, description="Seconds until the copy is done, at that rate.")
    speed: str | None = Field(default=None, description="Human form of rowsPerSecond, for printer columns.")
    eta: str | None = Field(default=None, description="Human form of etaSeconds, for printer columns.")
    updated_at: str | None = Field(default=None, description="When this was computed (RFC 3339).")


class TableStatus(StatusModel):
    """One table's copy."""

    name: str = Field(description="The table (schema.table with several schemas).")
    state: TableState = Field(description="pending, copying, done, failed or validated.")
    rows_copied: int = Field(default=0, description="Rows copied so far.")
    rows_estimated: int = Field(default=0, description="Rows to copy, from the source's statistics.")
    checkpoint: str | None = Field(
        default=None, description="The last committed key position; the copy resumes after it."
    )
    validation: str | None = Field(default=None, description="The validation's result (row count, checksum).")
    checksum: str | None = Field(
        default=None, description="validation.checksum: the target's digest of the copied rows (sha256)."
    )


class WorkerStatus(StatusModel):
    """What one worker pod (one Job completion index) reports; the operator aggregates these."""

    state: WorkerState = Field(
        default=WorkerState.RUNNING,
        description="running, reconnecting, throttled, suspended, done or failed.",
    )
    units_total: int = Field(default=0, description="Units (tables or key ranges) this worker copies.")
    units_done: int = Field(default=0, description="Units it finished.")
    rows_copied: int = Field(default=0, description="Rows it copied.")
    rows_per_second: float = Field(default=0.0, description="Its current copy rate.")
    bytes_copied: int = Field(default=0, description="Bytes read from the source by this pod.")
    cpu_seconds: float = Field(default=0.0, description="CPU time (user + system) of this pod's process.")
    tables: list[TableStatus] = Field(default_factory=list, description="Its tables.")
    sessions: WorkerSessions | None = Field(
        default=None, description="Its database sessions and reconnects (ferry_connection_* metrics)."
    )
    pod: str | None = Field(default=None, description="The pod that reports (its reconnects are its own).")
    message: str | None = Field(default=None, description="What it is doing or waiting for.")
    updated_at: str | None = Field(default=None, description="When it last reported (RFC 3339).")


class EffectiveSettings(StatusModel):
    """The copy and validation settings that run: the Migration's own, else its Project's
    `defaults`, else Ferry's. Workers read them from here (they cannot read Projects)."""

    batch_size: int | None = Field(default=None, description="Unset: the engine's default.")
    parallelism: int = Field(default=2, description="Worker pods.")
    row_count_validation: bool = Field(default=True, description="Whether row counts are compared.")
    checksum_validation: bool = Field(default=False, description="Whether checksums are compared.")
    job_resources: ResourceRequirements | None = Field(default=None, description="Worker pod resources.")
    rows_per_second: int | None = Field(
        default=None, description="Copy rate limit (all workers); unset: none."
    )
    bytes_per_second: int | None = Field(default=None, description="Copy byte-rate limit (all workers).")
    throttle_guard: ThrottleGuard | None = Field(
        default=None, description="The copy.throttle.guard that runs (the Migration's or its Project's)."
    )
    job_placement: JobPlacement | None = Field(
        default=None, description="The Project's worker placement (its defaults.jobPlacement)."
    )
    from_project: list[str] = Field(
        default_factory=list, description="Fields whose value came from the Project's defaults."
    )


class MigrationStatus(ConditionedStatus):
    phase: Phase = Field(
        default=Phase.PENDING,
        description="Pending, Planning, AwaitingApproval, Running, Following, CuttingOver, Validating, "
        "Succeeded, Failed, Suspended, RollingBack or RolledBack (docs/migrations.md).",
    )
    plan: PlanStatus | None = None
    approvals: list[ApprovalEntry] = Field(
        default_factory=list,
        max_length=64,
        description="The MigrationApprovals of this Migration, each counted for the current plan or "
        "not, with why.",
    )
    effective: EffectiveSettings | None = None
    progress: ProgressStatus | None = None
    tables: list[TableStatus] = Field(default_factory=list, description="Each table's copy (bounded).")
    tables_omitted: int = Field(default=0, description="Tables beyond those listed.")
    workers: dict[str, WorkerStatus] = Field(
        default_factory=dict, description="Per worker index; written by the worker pods."
    )
    validation_workers: dict[str, ValidationWorkerStatus] = Field(
        default_factory=dict, description="Per validation pod index; written by the validation pods."
    )
    earlier_pods: EarlierPods | None = Field(
        default=None,
        description="Bytes and CPU of the run's worker pods that later ones replaced (in progress's "
        "and usage's totals).",
    )
    usage: MigrationUsage | None = Field(
        default=None,
        description="CPU time of the run's copy, validation and follower pods (docs/governance.md).",
    )
    created_tables: list[str] = Field(
        default_factory=list, description="Target tables this migration created (rollback drop-created)."
    )
    job_name: str | None = Field(default=None, description="The current attempt's Job.")
    job_kind: JobKind = Field(
        default=JobKind.COPY, description="What jobName runs: the copy, or (online) the follower."
    )
    attempts: int = Field(default=0, description="Job attempts so far.")
    next_attempt_time: str | None = Field(
        default=None, description="When the next attempt starts after a failed one."
    )
    reconcile_errors: int = Field(
        default=0, description="Unclassified errors in a row; Stalled once they reach the operator's limit."
    )
    start_time: str | None = Field(default=None, description="When the copy started (RFC 3339).")
    completion_time: str | None = Field(default=None, description="When the Migration ended (RFC 3339).")
    phase_transition_time: str | None = Field(
        default=None,
        description="When the Migration entered its current phase (alerts measure waits from it).",
    )
    phase_history: list[PhaseSpan] = Field(
        default_factory=list,
        max_length=MAX_SPANS,
        description="When each phase was entered (the last 32): the wall time per phase.",
    )
    message: str | None = Field(default=None, description="The phase's message, for a person.")
    replication: ReplicationStatus | None = None
    cutover: CutoverStatus | None = None
    validation: ValidationStatus | None = None
    report: str | None = Field(
        default=None,
        description="ConfigMap keeping this run's report once it ended; it outlives the Migration "
        "(kubectl ferry report mig/NAME).",
    )

    # -- named transitions ------------------------------------------------------------------

    def mark_waiting(
        self, reason: str, message: str, generation: int, phase: Phase = Phase.PENDING
    ) -> StatusEvent | None:
        """Not ready yet for a reason that may heal by itself (a connection, a Secret, a retry)."""
        return self._transition(phase, message, generation, ready=False, reconciling=True, reason=reason)

    def mark_planning(self, generation: int) -> StatusEvent | None:
        message = "reflecting both schemas and planning"
        return self._transition(Phase.PLANNING, message, generation, False, True, c.PLANNING)

    def mark_awaiting_approval(self, reason: str, message: str, generation: int) -> StatusEvent | None:
        """The plan waits for a person (reason AwaitingApproval or ApprovalStale)."""
        return self._transition(Phase.AWAITING_APPROVAL, message, generation, False, False, reason)

    def mark_stalled(
        self, reason: str, message: str, generation: int, phase: Phase | None = None
    ) -> StatusEvent | None:
        """Ferry cannot go on without a change from the user (a policy, a read-only target,
        a plan with errors, an error that keeps coming back)."""
        return self._transition(phase or self.phase, message, generation, False, False, reason, stalled=True)

    def mark_running(self, message: str, generation: int) -> StatusEvent | None:
        return self._transition(Phase.RUNNING, message, generation, False, True, c.RUNNING)

    def mark_retry_scheduled(
        self, message: str, generation: int, phase: Phase = Phase.RUNNING, reason: str = c.JOB_FAILED
    ) -> StatusEvent:
        """A Job attempt failed and the next one is scheduled; the phase stays (Running, or an
        online Migration's Following or CuttingOver). `reason`: JobFailed, or DatabaseUnavailable
        when the pods failed because a database went away."""
        self._transition(phase, message, generation, False, True, reason)
        return StatusEvent("Warning", reason, message)

    def mark_workers_held(self, reason: str, message: str, generation: int) -> StatusEvent | None:
        """Workers wait: for a database that went away (DatabaseUnavailable, a Warning event when it
        starts) or for the throttle guard's metric to fall (ThrottledByGuard, a Normal one). The
        phase stays; `back_to_work` ends it."""
        reconciling = self.condition(c.RECONCILING)
        starting = reconciling is None or reconciling.reason != reason
        self._transition(self.phase, message, generation, False, True, reason)
        kind: EventType = "Warning" if reason == c.DATABASE_UNAVAILABLE else "Normal"
        return StatusEvent(kind, reason, message) if starting else None

    def mark_suspended(
        self,
        generation: int,
        message: str = "suspended by spec.suspend; progress is checkpointed",
        reason: str = c.SUSPENDED,
    ) -> StatusEvent | None:
        """Suspended by spec.suspend, or (reason OutsideWindow) outside the maintenance windows."""
        return self._transition(Phase.SUSPENDED, message, generation, False, False, reason)

    def mark_following(self, message: str, generation: int, reason: str = c.FOLLOWING) -> StatusEvent | None:
        """Online: the copy is done and the follower applies changes as the source commits.
        Ready (GitOps tools show Healthy): the target is being kept current, which is what an
        online Migration declares until someone asks for the cutover (reason
        CutoverAwaitingApproval while a requested one waits for the Project's approval)."""
        return self._transition(Phase.FOLLOWING, message, generation, True, False, reason)

    def mark_cutting_over(self, message: str, generation: int) -> StatusEvent | None:
        """Online: the cutover was asked for; the follower applies up to its position, then ends."""
        return self._transition(Phase.CUTTING_OVER, message, generation, False, True, c.CUTTING_OVER)

    def mark_capture_health(self, ok: bool, message: str, generation: int) -> StatusEvent | None:
        """The `CaptureHealthy` condition (online): False while the capture holds more of the
        source's change history than it should (a slot retaining WAL). A Warning event on the flip
        to False; the phase and the standard conditions are left alone."""
        reason = c.CAPTURE_HEALTHY if ok else c.SLOT_WAL_RETAINED
        flipped = self.set_condition(
            c.CAPTURE_HEALTHY, "True" if ok else "False", reason, message, generation
        )
        if flipped and not ok:
            return StatusEvent("Warning", c.SLOT_WAL_RETAINED, message)
        return None

    def mark_validating(
        self, generation: int, message: str = "copy finished; validating"
    ) -> StatusEvent | None:
        return self._transition(Phase.VALIDATING, message, generation, False, True, c.VALIDATING)

    def mark_succeeded(self, summary: str, generation: int, completed_at: str) -> StatusEvent | None:
        self.completion_time = completed_at
        return self._transition(Phase.SUCCEEDED, summary, generation, True, False, c.SUCCEEDED)

    def mark_failed(
        self, reason: str, message: str, generation: int, completed_at: str
    ) -> StatusEvent | None:
        self.completion_time = self.completion_time or completed_at
        return self._transition(Phase.FAILED, message, generation, False, False, reason, stalled=True)

    def mark_rolling_back(self, message: str, generation: int, completed_at: str) -> StatusEvent | None:
        self.completion_time = self.completion_time or completed_at
        return self._transition(Phase.ROLLING_BACK, message, generation, False, True, c.ROLLING_BACK)

    def mark_rolled_back(self, message: str, generation: int) -> StatusEvent | None:
        return self._transition(
            Phase.ROLLED_BACK, message, generation, False, False, c.ROLLED_BACK, stalled=True
        )

    def mark_error(self, message: str, generation: int, *, stalled: bool) -> StatusEvent | None:
        """An error Ferry cannot classify: retried (Reconciling) until the limit, then Stalled."""
        if stalled:
            return self.mark_stalled(c.RECONCILE_ERROR, message, generation)
        return self._transition(self.phase, message, generation, False, True, c.RECONCILE_ERROR)

    def _transition(
        self,
        phase: Phase,
        message: str,
        generation: int,
        ready: bool,
        reconciling: bool,
        reason: str,
        *,
        stalled: bool = False,
    ) -> StatusEvent | None:
        event = None
        now = datetime.now(UTC)
        if self.phase != phase or not self.phase_history:  # the first mark records Pending too
            self.phase_history = entered(self.phase_history, phase.value, now)
        if self.phase != phase:
            self.phase_transition_time = rfc3339(now)
            warning = phase in (Phase.FAILED, Phase.ROLLING_BACK)
            text = message or f"phase {self.phase.value} → {phase.value}"
            event = StatusEvent("Warning" if warning else "Normal", phase.value, text)
        self.phase = phase
        self.message = message or None
        self.observed_generation = generation
        self.set_condition(c.READY, "True" if ready else "False", reason, message, generation)
        self.set_condition(
            c.RECONCILING,
            "True" if reconciling else "False",
            reason,
            message if reconciling else "",
            generation,
        )
        if stalled:
            self.set_condition(c.STALLED, "True", reason, message, generation)
        else:
            self.remove_condition(c.STALLED)
        return event
