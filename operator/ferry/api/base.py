"""Shared building blocks of the API models: camelCase wire names, references, conditions.

Every spec is parsed once, at the edge, into these models; code below the controllers
reads typed attributes, never raw dicts.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

# Kubernetes object names (DNS-1123 subdomain) are at most 253 characters. Bounding every
# string that a CEL rule reads keeps the rule's estimated cost under the apiserver's budget.
ObjectName = Annotated[str, Field(min_length=1, max_length=253, pattern=r"^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")]
KeyName = Annotated[str, Field(min_length=1, max_length=253, pattern=r"^[-._a-zA-Z0-9]+$")]
Identifier = Annotated[str, Field(min_length=1, max_length=128)]

# Marks a spec field that a Project's `defaults` may fill: the CRD publishes no default for
# it (an apiserver default would be indistinguishable from the user's own value), and the
# operator merges the Project's value when the field is unset (ferry.services.effective).
PROJECT_DEFAULT_KEY = "x-ferry-project-default"
PROJECT_DEFAULTED: dict[str, Any] = {PROJECT_DEFAULT_KEY: True}


class ApiModel(BaseModel):
    """Base of every API model: camelCase on the wire, snake_case in Python, unknown fields refused."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        validate_assignment=True,
    )

    def to_wire(self) -> dict[str, Any]:
        """The JSON form Kubernetes stores: camelCase keys, unset optional fields left out."""
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")


class StatusModel(ApiModel):
    """Status models accept fields written by newer versions instead of failing to parse."""

    model_config = ConfigDict(extra="ignore")


class LocalObjectReference(ApiModel):
    """A reference to an object of a known kind in the same namespace."""

    name: ObjectName = Field(description="The object's name, in this object's namespace.")


class SecretKeyReference(ApiModel):
    """One key of a Secret in the same namespace."""

    name: ObjectName = Field(description="The Secret's name, in this object's namespace.")
    key: KeyName = Field(description="The key within the Secret's data.")


ConditionStatus = Literal["True", "False", "Unknown"]


def rfc3339(value: datetime) -> str:
    """`value` (aware, UTC) in the form Kubernetes uses for timestamps."""
    return value.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def parse_rfc3339(value: str) -> datetime:
    """A Kubernetes timestamp (`2026-01-01T00:00:00Z`) as an aware datetime."""
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def now_rfc3339() -> str:
    """The current time in the form Kubernetes uses for timestamps."""
    return rfc3339(datetime.now(UTC))


class Condition(StatusModel):
    """A standard Kubernetes condition (metav1.Condition), as kstatus, Flux and Argo CD read it."""

    type: str = Field(max_length=316, description="Ready, Reconciling, Stalled, or a domain condition.")
    status: ConditionStatus = Field(description="True, False or Unknown.")
    reason: str = Field(max_length=1024, description="Why, in one CamelCase word (ferry.api.conditions).")
    message: str = Field(default="", max_length=32768, description="Why, for a person; never holds secrets.")
    last_transition_time: str = Field(description="When the status last changed (RFC 3339).")
    observed_generation: int | None = Field(
        default=None, ge=0, description="The metadata.generation this condition was set for."
    )


class ConditionedStatus(StatusModel):
    """A status with conditions and observedGeneration, changed only through these methods."""

    observed_generation: int | None = Field(
        default=None,
        ge=0,
        description="The metadata.generation Ferry last acted on; behind it: not seen yet.",
    )
    conditions: list[Condition] = Field(
        default_factory=list, description="Ready, Reconciling and Stalled (kstatus), and domain conditions."
    )

    def condition(self, type_: str) -> Condition | None:
        return next((c for c in self.conditions if c.type == type_), None)

    def is_true(self, type_: str) -> bool:
        found = self.condition(type_)
        return found is not None and found.status == "True"

    def set_condition(
        self,
        type_: str,
        status: ConditionStatus,
        reason: str,
        message: str = "",
        generation: int | None = None,
    ) -> bool:
        """Set one condition; the transition time moves only when the status changes.

        Returns True when the status flipped, so callers can emit an event on transitions only.
        """
        existing = self.condition(type_)
        if existing is not None and existing.status == status:
            existing.reason = reason
            existing.message = message
            existing.observed_generation = generation
            return False
        new = Condition(
            type=type_,
            status=status,
            reason=reason,
            message=message,
            last_transition_time=now_rfc3339(),
            observed_generation=generation,
        )
        self.conditions = [c for c in self.conditions if c.type != type_] + [new]
        return True

    def remove_condition(self, type_: str) -> None:
        self.conditions = [c for c in self.conditions if c.type != type_]
