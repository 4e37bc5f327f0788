"""The online-mode settings of a Migration: the mode itself, how changes are applied, and the
cutover."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from ferry.api.base import ApiModel


class MigrationMode(StrEnum):
    """offline: copy once and finish. online: capture changes from before the copy, follow them
    after it, and switch over (`cutover`) when asked."""

    OFFLINE = "offline"
    ONLINE = "online"


class CutoverSpec(ApiModel):
    """Online mode: the switch from the source to the target."""

    requested: bool = Field(
        default=False,
        description="Set to true (kubectl ferry cutover mig/NAME) to end following: the follower applies "
        "every change up to the source's position at that moment, then the target is completed and "
        "validated. Cannot be taken back once set.",
    )
    max_lag_seconds: int = Field(
        default=5,
        ge=0,
        le=86400,
        description="The cutover position is taken only once the follower is at most this far behind.",
    )
    freeze_source: bool = Field(
        default=False,
        description="Make the source read-only, where the connection's user may, before the cutover "
        "position is taken, so nothing is written there after it (undone by hand: docs/online.md).",
    )


class ApplyMethod(StrEnum):
    """Who applies an online migration's changes on the target (docs/online.md#apply-methods)."""

    AUTO = "auto"  # native when eligible, else ferry
    FERRY = "ferry"  # Ferry's own applier (any source, renames, transforms)
    NATIVE = "native"  # a PostgreSQL subscription on the target, orchestrated by Ferry


class OnlineSpec(ApiModel):
    """Online mode: how the changes are applied."""

    apply: ApplyMethod = Field(
        default=ApplyMethod.AUTO,
        description="auto (native when eligible, else ferry), ferry (Ferry's applier) or native (PostgreSQL "
        "to PostgreSQL only: a subscription on the target takes over Ferry's slot and publication; the "
        "source's password is then stored in the target's pg_subscription catalog). Immutable.",
    )
