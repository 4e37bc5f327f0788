"""Project: a team's workspace — one namespace, its members, quota, defaults and policy."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from ferry.api.base import ApiModel, ConditionedStatus, ObjectName
from ferry.api.resources import ResourceRequirements


class MemberKind(StrEnum):
    USER = "User"
    GROUP = "Group"
    SERVICE_ACCOUNT = "ServiceAccount"


class MemberRole(StrEnum):
    ADMIN = "admin"
    EDITOR = "editor"
    VIEWER = "viewer"


class Member(ApiModel):
    kind: MemberKind
    name: str = Field(min_length=1, max_length=253)
    namespace: ObjectName | None = Field(default=None, description="Namespace of a ServiceAccount member.")
    role: MemberRole

    model_config = {
        "json_schema_extra": {
            "x-kubernetes-validations": [
                {
                    "rule": "self.kind == 'ServiceAccount' || !has(self.namespace)",
                    "message": "namespace is only valid for ServiceAccount members",
                    "fieldPath": ".namespace",
                }
            ]
        }
    }


class Quota(ApiModel):
    max_jobs: int | None = Field(default=None, ge=0, le=10000)
    cpu: str | None = Field(default=None, max_length=32, description="Limit on the sum of CPU requests.")
    memory: str | None = Field(
        default=None, max_length=32, description="Limit on the sum of memory requests."
    )


class ProjectDefaults(ApiModel):
    batch_size: int | None = Field(default=None, ge=1, le=10_000_000)
    parallelism: int | None = Field(default=None, ge=1, le=64)
    job_resources: ResourceRequirements | None = None
    row_count_validation: bool | None = None
    checksum_validation: bool | None = None


class ProjectPolicy(ApiModel):
    allowed_connections: list[str] = Field(
        default_factory=lambda: ["*"],
        max_length=256,
        description="Glob patterns of DatabaseConnection names a Migration in this project may use.",
    )
    allow_raw_sql_filters: bool = True
    destructive_requires_approval: bool = True
    lossy_requires_approval: bool = False
    cutover_requires_approval: bool = Field(
        default=False,
        description="Online migrations: a requested cutover waits for spec.approval.cutover as well.",
    )
    max_parallelism: int = Field(default=16, ge=1, le=64)


class ProjectSpec(ApiModel):
    namespace: ObjectName | None = Field(
        default=None, description="The namespace this project owns; defaults to the project's name."
    )
    members: list[Member] = Field(default_factory=list, max_length=1000)
    quota: Quota | None = None
    defaults: ProjectDefaults = Field(default_factory=ProjectDefaults)
    policy: ProjectPolicy = Field(default_factory=ProjectPolicy)

    model_config = {
        "json_schema_extra": {
            "x-kubernetes-validations": [
                {
                    # `namespace` is a CEL reserved word: has() accepts it, but a field read must be
                    # escaped as `__namespace__`, or it types as dyn and blows the cost budget.
                    "rule": "!has(oldSelf.namespace)"
                    " || (has(self.namespace) && self.__namespace__ == oldSelf.__namespace__)",
                    "message": "namespace is immutable",
                    "fieldPath": ".namespace",
                }
            ]
        }
    }


class ProjectStatus(ConditionedStatus):
    namespace: str | None = None
    migrations_by_phase: dict[str, int] = Field(default_factory=dict)
