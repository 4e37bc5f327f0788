"""A Project's run reports: how long the operator keeps them (they outlive their Migrations)."""

from __future__ import annotations

from pydantic import Field

from ferry.api.base import ApiModel


class ReportRetention(ApiModel):
    """Either or both; a report goes when it is older than `retention` or beyond the newest
    `maxCount`. Unset: reports are kept until someone deletes them."""

    retention: str | None = Field(
        default=None,
        pattern=r"^[1-9][0-9]{0,4}[dh]$",
        description="Delete run reports older than this, e.g. '90d' or '36h' (from when they were written).",
    )
    max_count: int | None = Field(
        default=None, ge=1, le=100_000, description="Keep at most this many run reports, the newest."
    )
