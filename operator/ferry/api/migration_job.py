"""Where and how a Migration's worker pods run (spec.job): image, resources, retries. Placement
(node selector, tolerations) comes from the Project only."""

from __future__ import annotations

from pydantic import Field

from ferry.api.base import PROJECT_DEFAULTED, ApiModel, ObjectName
from ferry.api.resources import ResourceRequirements, Toleration


class JobSpec(ApiModel):
    image: str | None = Field(default=None, max_length=1024)
    resources: ResourceRequirements | None = Field(
        default=None,
        description="Worker pod resources. Unset: the Project's defaults.jobResources, else Ferry's.",
        json_schema_extra=PROJECT_DEFAULTED,
    )
    # A Job with an invalid name here is refused by the apiserver only when the operator creates
    # it; refused at admission instead, naming the field.
    service_account_name: ObjectName | None = None
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
    backoff_limit: int = Field(default=6, ge=0, le=100)
    active_deadline_seconds: int | None = Field(default=None, ge=1)
    ttl_seconds_after_finished: int = Field(default=3600, ge=0)

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
