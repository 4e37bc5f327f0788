"""One calendar month of a Project's usage (status.usage.currentMonth / previousMonth)."""

from __future__ import annotations

from pydantic import Field

from ferry.api.base import StatusModel


class CpuUsage(StatusModel):
    """Measured CPU time of a Project's worker pods, in all and by kind (a Migration's
    status.usage summed over its runs)."""

    worker_cpu_seconds: float = Field(
        default=0.0, description="CPU time every worker pod used (measured): copy, validation and follower."
    )
    copy_cpu_seconds: float = Field(default=0.0, description="Of workerCpuSeconds: the copy worker pods.")
    validation_cpu_seconds: float = Field(
        default=0.0, description="Of workerCpuSeconds: the validation pods."
    )
    follower_cpu_seconds: float = Field(
        default=0.0, description="Of workerCpuSeconds: the online follower pods."
    )


class MonthUsage(CpuUsage):
    """The runs that ended in one calendar month (UTC), from their run reports."""

    month: str = Field(description="YYYY-MM (UTC).")
    runs: int = Field(default=0, description="Runs that ended in the month.")
    rows_copied: int = Field(default=0, description="Rows those runs copied.")
    bytes_copied: int = Field(default=0, description="Bytes the workers read from the sources.")
    cpu_hours: str = Field(default="0", description="Requested CPU x workers x wall time, in core-hours.")
    estimated_cost: str | None = Field(default=None, description="From spec.cost, when set.")
