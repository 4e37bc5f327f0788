"""Kubernetes value types that Ferry's API embeds (resource requirements, tolerations)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, WithJsonSchema

from ferry.api.base import ApiModel

QUANTITY_PATTERN = r"^[0-9]+(\.[0-9]+)?(m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei)?$"
# A resource quantity ("500m", "1Gi", 2): Kubernetes' int-or-string with its own format.
Quantity = Annotated[
    str | int,
    WithJsonSchema(
        {
            "anyOf": [{"type": "integer"}, {"type": "string"}],
            "x-kubernetes-int-or-string": True,
            "pattern": QUANTITY_PATTERN,
        }
    ),
]


class ResourceRequirements(ApiModel):
    requests: dict[str, Quantity] = Field(default_factory=dict)
    limits: dict[str, Quantity] = Field(default_factory=dict)


# A worker pod's resources when neither the Migration nor its Project sets any. Requests make
# the pod admissible in a namespace whose ResourceQuota limits requests.cpu/requests.memory
# (a pod without them is refused there); limits do the same for a quota on limits.*. Sized on
# the measured worker: peak RSS 103-136 MB, about 0.2 cores per worker (docs/benchmark.md).
# `resources: {}` on the Migration or the Project opts out (no requests, no limits).
DEFAULT_JOB_RESOURCES = ResourceRequirements(
    requests={"cpu": "100m", "memory": "256Mi"}, limits={"cpu": "1", "memory": "512Mi"}
)


class Toleration(ApiModel):
    key: str | None = Field(default=None, max_length=317)
    operator: Literal["Exists", "Equal"] | None = None
    value: str | None = Field(default=None, max_length=63)
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None = None
    toleration_seconds: int | None = None


class JobPlacement(ApiModel):
    """Where a Project's worker pods may be scheduled: set by whoever writes the Project (a
    cluster admin), never by a Migration, so an editor cannot move pods that carry database
    credentials onto nodes of their choosing."""

    node_selector: dict[str, str] = Field(default_factory=dict, max_length=64)
    tolerations: list[Toleration] = Field(default_factory=list, max_length=64)
