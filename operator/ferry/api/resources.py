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
    """A container's resources, as in a pod spec."""

    requests: dict[str, Quantity] = Field(
        default_factory=dict,
        description="What the scheduler reserves, by resource (cpu: 100m, memory: 256Mi).",
    )
    limits: dict[str, Quantity] = Field(
        default_factory=dict,
        description="The most the container may use, by resource (cpu: 1, memory: 512Mi).",
    )


# A worker pod's resources when neither the Migration nor its Project sets any. Requests make
# the pod admissible in a namespace whose ResourceQuota limits requests.cpu/requests.memory
# (a pod without them is refused there); limits do the same for a quota on limits.*. Sized on
# the measured worker: peak RSS 103-136 MB, about 0.2 cores per worker (docs/benchmark.md).
# `resources: {}` on the Migration or the Project opts out (no requests, no limits).
DEFAULT_JOB_RESOURCES = ResourceRequirements(
    requests={"cpu": "100m", "memory": "256Mi"}, limits={"cpu": "1", "memory": "512Mi"}
)


class Toleration(ApiModel):
    """A pod toleration (core/v1 Toleration): the pods may run on nodes with a matching taint."""

    key: str | None = Field(
        default=None, max_length=317, description="The taint key; empty with Exists: any."
    )
    operator: Literal["Exists", "Equal"] | None = Field(
        default=None, description="Equal (the default) matches key and value; Exists matches the key alone."
    )
    value: str | None = Field(
        default=None, max_length=63, description="The taint value, with operator Equal."
    )
    effect: Literal["NoSchedule", "PreferNoSchedule", "NoExecute"] | None = Field(
        default=None, description="The taint effect to tolerate; empty: all."
    )
    toleration_seconds: int | None = Field(
        default=None, description="With NoExecute: how long the pod stays after the taint appears."
    )


class JobPlacement(ApiModel):
    """Where a Project's worker pods may be scheduled: set by whoever writes the Project (a
    cluster admin), never by a Migration, so an editor cannot move pods that carry database
    credentials onto nodes of their choosing."""

    node_selector: dict[str, str] = Field(
        default_factory=dict, max_length=64, description="Node labels the worker pods' nodes must carry."
    )
    tolerations: list[Toleration] = Field(
        default_factory=list, max_length=64, description="Taints the worker pods tolerate."
    )
