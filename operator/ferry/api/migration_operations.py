"""The operational settings of a Migration: how hard it may read the source (copy.throttle) and
when it may run (schedule.windows)."""

from __future__ import annotations

from pydantic import Field

from ferry.api.base import ApiModel, SecretKeyReference


class ThrottleGuard(ApiModel):
    """A metric of the source's health (replica lag, CPU) that pauses the copy while it is high:
    workers read the query before each new batch (at most every intervalSeconds) and start none
    while its value is above the threshold."""

    prometheus_url: str = Field(
        pattern=r"^https?://[^\s]+$", max_length=512,
        description="Base URL of a Prometheus-compatible API, e.g. http://prometheus.monitoring:9090; "
        "Ferry calls its /api/v1/query.",
    )  # fmt: skip
    query: str = Field(
        min_length=1, max_length=4096,
        description="An instant PromQL query giving a vector or a scalar; its largest value is compared. "
        "An empty result counts as below the threshold.",
    )  # fmt: skip
    threshold: float = Field(description="Above this value no new batch starts.")
    interval_seconds: int = Field(default=10, ge=1, le=600, description="How often the query is read.")
    credentials_secret_ref: SecretKeyReference | None = Field(
        default=None, description="A bearer token for the API, from this Secret key. Unset: no credentials."
    )


class Throttle(ApiModel):
    """How hard the copy may read the source: limits across all workers of a Migration (each
    worker takes its share). Pausing costs nothing: every committed batch is a checkpoint."""

    rows_per_second: int | None = Field(
        default=None, ge=1, le=1_000_000_000, description="Unset: no row limit."
    )
    bytes_per_second: int | None = Field(
        default=None, ge=1024, le=1 << 40, description="Unset: no byte limit (bytes as read from the source)."
    )
    guard: ThrottleGuard | None = Field(
        default=None,
        description="Pause new batches while a Prometheus query is above a threshold. A query that "
        "fails pauses them too (with the error as the reason).",
    )


class MaintenanceWindow(ApiModel):
    """A recurring stretch of time in which the Migration may copy and follow."""

    start: str = Field(
        min_length=9, max_length=128,
        description="When the window opens, as a 5-field cron expression (minute hour day month weekday), "
        "e.g. '0 22 * * 1-5' for 22:00 on weekdays.",
    )  # fmt: skip
    duration: str = Field(
        pattern=r"^([0-9]+h)?([0-9]+m)?([0-9]+s)?$", min_length=2, max_length=16,
        description="How long it stays open, e.g. '6h', '1h30m' or '45s'.",
    )  # fmt: skip
    time_zone: str = Field(
        default="UTC", max_length=64, description="IANA time zone of `start`, e.g. Europe/Berlin."
    )


class ScheduleSpec(ApiModel):
    """When the Migration may run: maintenance windows."""

    windows: list[MaintenanceWindow] = Field(
        default_factory=list,
        max_length=32,
        description="Copying and following run only inside one of these windows; outside them the "
        "Migration is Suspended (reason OutsideWindow) and resumes at the next window by itself. Empty: "
        "any time.",
    )
