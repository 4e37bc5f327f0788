"""What worker pods use, beside their progress: the database sessions that copy and validation
workers and the online follower hold, and their reconnects (ferry_connection_* metrics,
docs/connections.md); the figures of worker pods a later pod replaced, which the operator keeps
for the run's usage; and that usage by kind of pod (docs/governance.md)."""

from __future__ import annotations

from pydantic import Field

from ferry.api.base import StatusModel


class PodFigures(StatusModel):
    """One worker pod's bytes and CPU time, as the operator last saw them."""

    pod: str = Field(description="The pod's name.")
    bytes_copied: int = Field(default=0, description="Its bytesCopied.")
    cpu_seconds: float = Field(default=0.0, description="Its cpuSeconds.")


class EarlierPods(StatusModel):
    """What the worker pods that a later pod replaced used: copy pods (a retried index, a new
    attempt), validation pods (a retried index, a repair's run) and follower pods (a retry, a new
    attempt). `workers`, `validationWorkers` and `replication` keep the latest pod only, so the
    operator keeps these for the usage."""

    bytes_copied: int = Field(default=0, description="Bytes the replaced copy pods read from the source.")
    cpu_seconds: float = Field(default=0.0, description="CPU time of the replaced copy pods.")
    last_seen: dict[str, PodFigures] = Field(
        default_factory=dict, description="Per copy worker index: the pod last seen there, and its figures."
    )
    validation_cpu_seconds: float = Field(
        default=0.0, description="CPU time of the replaced validation pods."
    )
    validation_last_seen: dict[str, PodFigures] = Field(
        default_factory=dict,
        description="Per validation pod index: the pod last seen there, and its figures.",
    )
    follower_cpu_seconds: float = Field(default=0.0, description="CPU time of the replaced follower pods.")
    follower_last_seen: PodFigures | None = Field(
        default=None, description="The follower pod last seen, and its figures."
    )


class MigrationUsage(StatusModel):
    """CPU time (user + system, each pod's process) of every worker pod of the run, by kind, each
    pod counted once (replaced pods with their last report, from earlierPods). The run report
    keeps it and the Project's usage sums it."""

    worker_cpu_seconds: float = Field(
        default=0.0,
        description="Every worker pod: copyCpuSeconds + validationCpuSeconds + followerCpuSeconds.",
    )
    copy_cpu_seconds: float = Field(
        default=0.0, description="The copy worker pods, every attempt (progress.workerCpuSeconds)."
    )
    validation_cpu_seconds: float = Field(
        default=0.0, description="The validation pods, every validation run (repairs too)."
    )
    follower_cpu_seconds: float = Field(
        default=0.0, description="The online follower pods, every retry and attempt."
    )


class WorkerSessions(StatusModel):
    """The database sessions one worker pod (copy, validation or follower) holds now, and how often
    it opened them again."""

    source: int = Field(default=0, description="Sessions open to the source database now.")
    target: int = Field(default=0, description="Sessions open to the target database now.")
    source_reconnects: int = Field(
        default=0, description="Times the pod lost a source session and opened it again."
    )
    target_reconnects: int = Field(
        default=0, description="Times the pod lost a target session and opened it again."
    )
