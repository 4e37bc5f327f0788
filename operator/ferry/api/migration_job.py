"""Where and how a Migration's worker pods run (spec.job): image, resources, retries. Placement
(node selector, tolerations) comes from the Project only."""

from __future__ import annotations

from pydantic import Field

from ferry.api.base import PROJECT_DEFAULTED, ApiModel, ObjectName
from ferry.api.resources import ResourceRequirements, Toleration


class JobSpec(ApiModel):
    """The worker Jobs: image, resources, identity, retries."""

    image: str | None = Field(
        default=None,
        max_length=1024,
        description="The worker image; unset: the operator's (FERRY_WORKER_IMAGE).",
    )
    resources: ResourceRequirements | None = Field(
        default=None,
        description="Worker pod resources. Unset: the Project's defaults.jobResources, else Ferry's.",
        json_schema_extra=PROJECT_DEFAULTED,
    )
    # A Job with an invalid name here is refused by the apiserver only when the operator creates
    # it; refused at admission instead, naming the field.
    service_account_name: ObjectName | None = Field(
        default=None,
        description="Your own ServiceAccount for the workers (it gets the same rights on this Migration); "
        "unset: ferry-worker-<migration>, made by the operator.",
    )
    # Refused (admission and operator): worker placement is the Project's defaults.jobPlacement.
    # Kept in the schema so an old object's values are reported, not silently pruned.
    node_selector: dict[str, str] = Field(
        default_factory=dict,
        description="Refused: worker pods are placed by the Project (spec.defaults.jobPlacement).",
    )
    tolerations: list[Toleration] = Field(
        default_factory=list,
        max_length=64,
        description="Refused: worker pods are placed by the Project (spec.defaults.jobPlacement).",
    )
    backoff_limit: int = Field(
        default=6, ge=0, le=100, description="Pod failures a Job tolerates before the attempt fails."
    )
    active_deadline_seconds: int | None = Field(
        default=None,
        ge=1,
        description="Seconds an attempt's Job may run before it is failed; unset: no limit.",
    )
    ttl_seconds_after_finished: int = Field(
        default=3600, ge=0, description="Seconds a finished Job (and its pods' logs) is kept."
    )

    model_config = {
        "json_schema_extra": {
            # Transition rules would let an object created before these rules keep its values;
            # the operator refuses those too (ferry.services.policy), naming the field.
            "x-kubernetes-validations": [
                {
                    "rule": "!has(self.nodeSelector) || size(self.nodeSelector) == 0",
                    "message": "worker pods are placed by the Project (spec.defaults.jobPlacement), "
                    "not by a Migration: remove spec.job.nodeSelector",
                    "fieldPath": ".nodeSelector",
                },
                {
                    "rule": "!has(self.tolerations) || size(self.tolerations) == 0",
                    "message": "worker pods are placed by the Project (spec.defaults.jobPlacement), "
                    "not by a Migration: remove spec.job.tolerations",
                    "fieldPath": ".tolerations",
                },
            ]
        }
    }
