"""What worker pods use, beside their progress: the database sessions that copy and validation
workers and the online follower hold, and their reconnects (ferry_connection_* metrics,
docs/connections.md); and the figures of copy worker pods a later pod replaced, which the
operator keeps for the run's usage (docs/governance.md)."""

from __future__ import annotations

from pydantic import Field

from ferry.api.base import StatusModel


class PodFigures(StatusModel):
    """One worker pod's bytes and CPU time, as the operator last saw them."""

    pod: str = Field(description="The pod's name.")
    bytes_copied: int = Field(default=0, description="Its bytesCopied.")
    cpu_seconds: float = Field(default=0.0, description="Its cpuSeconds.")


class EarlierPods(StatusModel):
    """What the copy worker pods that a later pod replaced used (a retried index, a new attempt).
    `workers` keeps each index's latest pod only, so the operator keeps these for the usage."""

    bytes_copied: int = Field(default=0, description="Bytes the replaced pods read from the source.")
    cpu_seconds: float = Field(default=0.0, description="CPU time of the replaced pods.")
    last_seen: dict[str, PodFigures] = Field(
        default_factory=dict, description="Per worker index: the pod last seen there, and its figures."
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
