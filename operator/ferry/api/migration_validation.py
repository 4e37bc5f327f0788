"""A Migration's validation run in the cluster: its Job, its run number, its progress, and what a
repair copied again. The validation pods report their share in `status.validationWorkers` (each
pod its own entry, as copy workers do in `status.workers`); the operator sums the entries of the
current run into `ValidationStatus` on its tick."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from ferry.api.base import StatusModel
from ferry.api.worker_figures import WorkerSessions

MAX_LISTED_RANGES = 32
MAX_LISTED_FAILURES = 16
ValidationWorkerState = Literal["running", "done", "failed"]


class ValidationWorkerStatus(StatusModel):
    """What one validation pod (one Job completion index) reports; written by that pod only."""

    run: int = Field(default=0, description="The validation run this pod works for.")
    state: ValidationWorkerState = Field(default="running", description="running, done or failed.")
    ranges_total: int = Field(default=0, description="Key ranges of the whole run (every pod's).")
    ranges_share: int = Field(default=0, description="Key ranges this pod compares.")
    ranges_done: int = Field(default=0, description="Of its share, ranges whose result is stored.")
    rows_compared: int = Field(default=0, description="Source rows in its stored ranges.")
    cpu_seconds: float = Field(default=0.0, description="CPU time (user + system) of this pod's process.")
    message: str | None = Field(
        default=None, description="Why it failed: the error's class and first line (no row values)."
    )
    sessions: WorkerSessions | None = Field(
        default=None, description="The database sessions it holds now (ferry_connection_sessions)."
    )
    pod: str | None = Field(default=None, description="The pod's name.")
    updated_at: str | None = Field(default=None, description="When it last reported (RFC 3339).")


class ValidationStatus(StatusModel):
    """The validation Job of the current run and what it repaired. A run is one validation Job;
    `kubectl ferry repair` starts the next run, which repairs and validates again."""

    run: int = Field(default=0, description="The validation run (1 after the copy, +1 per repair request).")
    job_name: str | None = Field(default=None, description="The validation Job of this run.")
    mismatched_ranges: list[str] = Field(
        default_factory=list,
        max_length=MAX_LISTED_RANGES,
        description="Key ranges that differ after this run (the first few); a repair copies them again.",
    )
    repaired_ranges: list[str] = Field(
        default_factory=list,
        max_length=MAX_LISTED_RANGES,
        description="Key ranges copied again by this run (the first few).",
    )
    repaired_total: int = Field(default=0, description="How many key ranges this run repaired.")
    ranges_done: int = Field(default=0, description="Key ranges of this run compared so far (all pods).")
    ranges_total: int = Field(
        default=0, description="Key ranges of this run; 0 until a validation pod has planned them."
    )
    rows_compared: int = Field(default=0, description="Source rows in the ranges compared so far.")
    progress: str | None = Field(
        default=None, description="rangesDone/rangesTotal as text ('12/40'), for printer columns."
    )
    repair_generation: int | None = Field(
        default=None, description="The generation whose spec.validation.repair started this run."
    )
    failures: list[str] = Field(
        default_factory=list,
        max_length=MAX_LISTED_FAILURES,
        description="What failed in this Migration's validation runs (the first few, every run): each "
        "failed pod's error class and first line, a Job that failed with no pod report, a run that "
        "a repair followed. Redacted, no row values; the run report lists them in its errors.",
    )
