"""Project: a team's workspace — one namespace, its members, quota, defaults and policy."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field

from ferry.api.base import ApiModel, ConditionedStatus, ObjectName
from ferry.api.resources import JobPlacement, ResourceRequirements


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
    job_resources: ResourceRequirements | None = Field(
        default=None,
        description="Worker pod resources when a Migration sets none. Unset: Ferry's (requests "
        "100m CPU and 256Mi, limits 1 CPU and 512Mi); `{}`: none.",
    )
    job_placement: JobPlacement | None = Field(
        default=None,
        description="Node selector and tolerations of every worker pod of the project. Not a default a "
        "Migration may override: Migrations cannot place pods (spec.job.nodeSelector is refused).",
    )
    row_count_validation: bool | None = None
    checksum_validation: bool | None = None


# An allowedHosts entry: a host name, `*.` and a domain suffix, an IP address or a CIDR. The
# pattern only bounds the syntax (the apiserver checks it on every Kubernetes version Ferry
# supports; CEL's isCIDR needs 1.31); what an entry matches is ferry.services.connection_policy.
HOST_ENTRY_PATTERN = (
    r"^((\*\.)?[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)*"
    r"|[0-9]{1,3}(\.[0-9]{1,3}){3}(/[0-9]{1,2})?"
    r"|[0-9A-Fa-f.]*:[0-9A-Fa-f:.]*(/[0-9]{1,3})?)$"
)
HostEntry = Annotated[str, Field(min_length=1, max_length=253, pattern=HOST_ENTRY_PATTERN)]
# A glob of Secret names: Secret-name characters plus `*` (any run) and `?` (one character).
# No `[...]` classes, so the operator's fnmatch and the admission policy's regex agree.
SecretGlob = Annotated[str, Field(min_length=1, max_length=253, pattern=r"^[a-z0-9.*?-]+$")]
Port = Annotated[int, Field(ge=1, le=65535)]


class ConnectionRules(ApiModel):
    """Where the project's DatabaseConnections may point and which Secrets they may name.

    An empty list allows everything of its kind (the behaviour of a namespace without rules).
    Enforced at admission by manifests/policies/ferry-connection-policy.yaml and again by the
    operator before any network connection (docs/connections.md, "Pinning hosts").
    """

    allowed_hosts: list[HostEntry] = Field(
        default_factory=list,
        max_length=256,
        description="Host names (exact), `*.example.com` (any name below example.com), IP addresses and "
        "CIDRs (match IP literals only; names are never resolved). Empty: any host.",
    )
    allowed_ports: list[Port] = Field(default_factory=list, max_length=64, description="Empty: any port.")
    allowed_secrets: list[SecretGlob] = Field(
        default_factory=list,
        max_length=256,
        description="Globs (`*`, `?`) of the Secret names a DatabaseConnection may reference "
        "(credentials, URL, TLS CA and client certificate). Empty: any Secret of the namespace.",
    )

    def restricts_destination(self) -> bool:
        return bool(self.allowed_hosts or self.allowed_ports)


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
    connections: ConnectionRules = Field(
        default_factory=ConnectionRules,
        description="Where DatabaseConnections of the project's namespace may point (hosts, ports) and "
        "which Secrets they may reference.",
    )


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
