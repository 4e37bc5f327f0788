"""A Migration's validation run in the cluster: its Job, its run number, and what a repair copied again."""

from __future__ import annotations

from pydantic import Field

from ferry.api.base import StatusModel

MAX_LISTED_RANGES = 32


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
    repair_generation: int | None = Field(
        default=None, description="The generation whose spec.validation.repair started this run."
    )
