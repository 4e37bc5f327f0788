"""Project: a team's workspace — one namespace, its members, quota, defaults and policy."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field

from ferry.api import conditions as c
from ferry.api.base import ApiModel, ConditionedStatus, ObjectName
from ferry.api.migration_operations import Throttle
from ferry.api.project_notifications import Notification
from ferry.api.project_reports import ReportRetention
from ferry.api.project_usage import CpuUsage, MonthUsage
from ferry.api.resources import QUANTITY_PATTERN, JobPlacement, ResourceRequirements


class MemberKind(StrEnum):
    USER = "User"
    GROUP = "Group"
    SERVICE_ACCOUNT = "ServiceAccount"


class MemberRole(StrEnum):
    ADMIN = "admin"
    EDITOR = "editor"
    APPROVER = "approver"  # viewer + approve plans (MigrationApprovals in their own name)
    VIEWER = "viewer"


class Member(ApiModel):
    """A person, group or ServiceAccount and their role in the project's namespace."""

    kind: MemberKind = Field(description="User, Group or ServiceAccount (as in a RoleBinding's subjects).")
    name: str = Field(
        min_length=1, max_length=253, description="The user's, group's or ServiceAccount's name."
    )
    namespace: ObjectName | None = Field(default=None, description="Namespace of a ServiceAccount member.")
    role: MemberRole = Field(
        description="admin, editor, approver (viewer plus approving plans) or viewer: bound to the "
        "ferry-admin, ferry-editor, ferry-viewer ClusterRoles in the namespace (docs/rbac.md)."
    )

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


# A resource quantity as text ("4", "500m", "16Gi"): the quota is compared with pod requests.
QuantityText = Annotated[str, Field(max_length=32, pattern=QUANTITY_PATTERN)]


class Quota(ApiModel):
    """A ResourceQuota on the project's namespace."""

    max_jobs: int | None = Field(default=None, ge=0, le=10000, description="Most Jobs (worker runs) at once.")
    cpu: QuantityText | None = Field(default=None, description="Limit on the sum of CPU requests.")
    memory: QuantityText | None = Field(default=None, description="Limit on the sum of memory requests.")


class ProjectDefaults(ApiModel):
    """Values for the project's Migrations that leave the field unset (status.effective shows the result)."""

    batch_size: int | None = Field(
        default=None, ge=1, le=10_000_000, description="Rows per batch (copy.batchSize)."
    )
    parallelism: int | None = Field(
        default=None, ge=1, le=64, description="Worker pods per copy (copy.parallelism)."
    )
    job_resources: ResourceRequirements | None = Field(
        default=None,
        description="Worker pod resources when a Migration sets none. Unset: Ferry's (requests "
        "100m CPU and 256Mi, limits 1 CPU and 512Mi); `{}`: none.",
    )
    throttle: Throttle | None = Field(
        default=None, description="Copy rate limits for Migrations that set none (copy.throttle)."
    )
    job_placement: JobPlacement | None = Field(
        default=None,
        description="Node selector and tolerations of every worker pod of the project. Not a default a "
        "Migration may override: Migrations cannot place pods (spec.job.nodeSelector is refused).",
    )
    row_count_validation: bool | None = Field(default=None, description="validation.rowCount's default.")
    checksum_validation: bool | None = Field(default=None, description="validation.checksum's default.")


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


class ApprovalRule(ApiModel):
    """Verified approvals (MigrationApproval objects) instead of a hash in the spec."""

    required: int = Field(default=1, ge=1, le=10, description="How many distinct approvers a plan needs.")
    groups: list[Annotated[str, Field(min_length=1, max_length=253)]] = Field(
        default_factory=list,
        max_length=64,
        description="An approval counts only from a member of one of these groups (as the apiserver "
        "authenticated them). Empty: anyone RBAC lets create MigrationApprovals.",
    )
    allow_author: bool = Field(
        default=False,
        description="Whether the Migration's author (its ferry.dev/author annotation, checked at "
        "admission) may approve it. False: four eyes; a Migration without an author annotation "
        "cannot be approved under this rule.",
    )


class UnprotectedPersonalData(StrEnum):
    WARN = "warn"  # named in the plan's warnings; the plan may run
    DENY = "deny"  # the plan is refused until each such column is transformed or excluded


class PersonalDataRule(ApiModel):
    """What a plan may do with columns that look personal (docs/governance.md)."""

    unprotected: UnprotectedPersonalData = Field(
        default=UnprotectedPersonalData.WARN,
        description="A copied column that looks personal (email, phone, birth date, ...) and has no "
        "hash/mask/encrypt/null/constant transform: warn, or deny the plan.",
    )


class ProjectPolicy(ApiModel):
    """What the project's Migrations and DatabaseConnections may do (docs/governance.md)."""

    allowed_connections: list[Annotated[str, Field(min_length=1, max_length=253)]] = Field(
        default_factory=lambda: ["*"],
        max_length=256,
        description="Glob patterns of DatabaseConnection names a Migration in this project may use.",
    )
    allow_raw_sql_filters: bool = Field(
        default=True, description="Whether Migrations may filter rows with raw SQL (a table's `where`)."
    )
    destructive_requires_approval: bool = Field(
        default=True, description="Plans that drop or rewrite target data wait for an approval."
    )
    lossy_requires_approval: bool = Field(
        default=False, description="Plans that narrow types or lose precision wait for an approval."
    )
    cutover_requires_approval: bool = Field(
        default=False,
        description="Online migrations: a requested cutover waits for spec.approval.cutover as well.",
    )
    approvals: ApprovalRule | None = Field(
        default=None,
        description="Set: plans that need approval need this many verified MigrationApprovals (kubectl "
        "ferry approve); spec.approval.planHash no longer suffices. Unset: either counts, one is enough.",
    )
    personal_data: PersonalDataRule = Field(default_factory=PersonalDataRule)
    max_parallelism: int = Field(
        default=16, ge=1, le=64, description="The most worker pods one Migration may run."
    )
    max_rows_per_second: int | None = Field(
        default=None,
        ge=1,
        description="The highest copy.throttle.rowsPerSecond a Migration may run with "
        "(one that sets none runs at this rate).",
    )
    max_bytes_per_second: int | None = Field(
        default=None,
        ge=1024,
        description="The highest copy.throttle.bytesPerSecond a Migration may run with "
        "(one that sets none runs at this rate).",
    )
    connections: ConnectionRules = Field(
        default_factory=ConnectionRules,
        description="Where DatabaseConnections of the project's namespace may point (hosts, ports) and "
        "which Secrets they may reference.",
    )


DecimalText = Annotated[str, Field(pattern=r"^[0-9]+(\.[0-9]+)?$", max_length=32)]


class ProjectCost(ApiModel):
    """Prices for the usage estimate in status.usage (chargeback, showback)."""

    per_cpu_hour: DecimalText = Field(
        description="Price of one requested CPU core for one hour, e.g. '0.04'."
    )
    per_memory_gib_hour: DecimalText = Field(
        default="0", description="Price of one requested GiB for one hour."
    )
    per_gib_moved: DecimalText = Field(
        default="0", description="Price of one GiB read from a source and written to a target."
    )
    currency: str = Field(default="USD", max_length=8, description="The currency the prices are in.")


class ProjectSpec(ApiModel):
    """A team's namespace, who may do what there, and the rules and defaults of its Migrations."""

    namespace: ObjectName | None = Field(
        default=None, description="The namespace this project owns; defaults to the project's name."
    )
    members: list[Member] = Field(
        default_factory=list,
        max_length=1000,
        description="Who gets which role in the namespace (RoleBindings).",
    )
    quota: Quota | None = None
    defaults: ProjectDefaults = Field(default_factory=ProjectDefaults)
    policy: ProjectPolicy = Field(default_factory=ProjectPolicy)
    cost: ProjectCost | None = Field(default=None, description="Prices for status.usage.estimatedCost.")
    notifications: list[Notification] = Field(
        default_factory=list,
        max_length=16,
        description="Webhooks told when a Migration of the project succeeds, fails, waits for approval, ...",
    )
    reports: ReportRetention = Field(
        default_factory=ReportRetention,
        description="How long the run reports of the project's Migrations are kept (they outlive them).",
    )

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


class ProjectUsage(CpuUsage):
    """What the project's Migration runs used, from their run reports (deleted Migrations too)."""

    runs: int = Field(default=0, description="Runs with a run report (one per Migration run that ended).")
    succeeded: int = Field(default=0, description="Runs that succeeded.")
    failed: int = Field(default=0, description="Runs that failed or were rolled back.")
    rows_copied: int = Field(default=0, description="Rows copied by all runs.")
    bytes_copied: int = Field(default=0, description="Bytes the workers read from the sources.")
    cpu_hours: str = Field(default="0", description="Requested CPU x workers x wall time, in core-hours.")
    memory_gib_hours: str = Field(default="0", description="Requested memory x workers x wall time.")
    estimated_cost: str | None = Field(default=None, description="From spec.cost, when set.")
    unpriced_runs: list[str] = Field(
        default_factory=list, description="Migrations whose runs recorded no worker requests (not priced)."
    )
    current_month: MonthUsage | None = Field(default=None, description="Runs that ended this month (UTC).")
    previous_month: MonthUsage | None = Field(default=None, description="Runs that ended last month.")


class ProjectStatus(ConditionedStatus):
    namespace: str | None = Field(default=None, description="The namespace the project governs.")
    migrations_by_phase: dict[str, int] = Field(
        default_factory=dict, description="How many of the namespace's Migrations are in each phase."
    )
    usage: ProjectUsage | None = None

    # -- named transitions (the GitOps health of docs/gitops.md reads these conditions) --------

    def mark_reconciled(self, namespace: str, generation: int) -> None:
        """The namespace, role bindings and quota are applied as declared."""
        self.set_condition(c.READY, "True", c.RECONCILED, f'namespace "{namespace}" is ready', generation)
        self.set_condition(c.RECONCILING, "False", c.RECONCILED, "", generation)
        self.remove_condition(c.STALLED)

    def mark_refused(self, reason: str, message: str, generation: int) -> None:
        """The namespace cannot be governed (another Project's, or not Ferry's): only a change helps."""
        self.set_condition(c.READY, "False", reason, message, generation)
        self.set_condition(c.STALLED, "True", reason, message, generation)
        self.set_condition(c.RECONCILING, "False", reason, "", generation)
