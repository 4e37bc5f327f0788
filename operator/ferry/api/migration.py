"""Migration: what to move from one DatabaseConnection to another, and how far it got."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from ferry.api.base import (
    ApiModel,
    ConditionedStatus,
    Identifier,
    LocalObjectReference,
    SecretKeyReference,
    StatusModel,
)
from ferry.api.resources import ResourceRequirements, Toleration


class Endpoint(ApiModel):
    connection_ref: LocalObjectReference
    schema_: str | None = Field(
        default=None,
        alias="schema",
        max_length=128,
        description="Schema (PostgreSQL) to read from or write to; the connection's default when empty.",
    )


class TransformType(StrEnum):
    HASH = "hash"
    MASK = "mask"
    NULL = "null"
    CONSTANT = "constant"
    ENCRYPT = "encrypt"
    CAST_TO = "castTo"


class Transform(ApiModel):
    """A per-column transformation applied between source and target."""

    column: Identifier
    type: TransformType
    key_secret_ref: SecretKeyReference | None = Field(
        default=None, description="The HMAC key (hash) or the 16/24/32-byte AES key (encrypt)."
    )
    keep_first: int = Field(default=0, ge=0, le=1024, description="mask: characters kept at the start.")
    keep_last: int = Field(default=0, ge=0, le=1024, description="mask: characters kept at the end.")
    mask_char: str = Field(default="*", min_length=1, max_length=1)
    value: str | None = Field(default=None, max_length=65536, description="constant: the value written.")
    cast_to: str | None = Field(default=None, max_length=128, description="castTo: the target column type.")

    model_config = {
        "json_schema_extra": {
            "x-kubernetes-validations": [
                {
                    "rule": "!(self.type in ['hash', 'encrypt']) || has(self.keySecretRef)",
                    "message": "keySecretRef is required for hash and encrypt transforms",
                    "fieldPath": ".keySecretRef",
                },
                {
                    "rule": "self.type != 'constant' || has(self.value)",
                    "message": "value is required for a constant transform",
                    "fieldPath": ".value",
                },
                {
                    "rule": "self.type != 'castTo' || has(self.castTo)",
                    "message": "castTo is required for a castTo transform",
                    "fieldPath": ".castTo",
                },
            ]
        }
    }


class ColumnSelection(ApiModel):
    include: list[Identifier] | None = Field(default=None, max_length=4096)
    exclude: list[Identifier] = Field(default_factory=list, max_length=4096)
    rename: dict[str, str] = Field(
        default_factory=dict, description="Source column name to target column name."
    )

    model_config = {
        "json_schema_extra": {
            "x-kubernetes-validations": [
                {
                    "rule": "!has(self.include) || self.exclude.size() == 0",
                    "message": "use either include or exclude for columns, not both",
                }
            ]
        }
    }


class TableOverride(ApiModel):
    name: Identifier = Field(description="Source table name.")
    target_name: Identifier | None = None
    columns: ColumnSelection = Field(default_factory=ColumnSelection)
    where: str | None = Field(
        default=None,
        max_length=8192,
        description="Raw SQL filter on the source; a Project policy may forbid it.",
    )
    # Bounds keep the CEL cost of Transform's rules (estimated per possible element:
    # overrides x transforms) under the apiserver's per-rule budget.
    transforms: list[Transform] = Field(default_factory=list, max_length=256)


class TableSelection(ApiModel):
    include: list[str] = Field(
        default_factory=lambda: ["*"], max_length=4096, description="Table name globs."
    )
    exclude: list[str] = Field(default_factory=list, max_length=4096, description="Table name globs.")
    overrides: list[TableOverride] = Field(default_factory=list, max_length=1024)


class SchemaMode(StrEnum):
    CREATE = "create"
    DIFF = "diff"
    NONE = "none"


class SchemaSpec(ApiModel):
    mode: SchemaMode = SchemaMode.DIFF
    allow_destructive: bool = False


class OnConflict(StrEnum):
    ERROR = "error"
    SKIP = "skip"
    UPDATE = "update"


class CopySpec(ApiModel):
    batch_size: int | None = Field(
        default=None,
        ge=1,
        le=10_000_000,
        description="Rows per batch, each committed with its checkpoint. Unset: 500000 where raw COPY "
        "data streams through to PostgreSQL, 50000 where rows are converted.",
    )
    parallelism: int = Field(default=2, ge=1, le=64)
    on_conflict: OnConflict = OnConflict.ERROR
    truncate_target: bool = False
    split_threshold_rows: int = Field(
        default=2_000_000, ge=1000, description="Tables with more rows are split into key ranges."
    )

    model_config = {
        "json_schema_extra": {
            "x-kubernetes-validations": [
                {
                    "rule": "!self.truncateTarget || self.onConflict == 'error'",
                    "message": "onConflict has no effect when truncateTarget empties the target first",
                    "fieldPath": ".onConflict",
                }
            ]
        }
    }


class ValidationSpec(ApiModel):
    row_count: bool = True
    checksum: bool = False


class RollbackAction(StrEnum):
    KEEP = "keep"
    TRUNCATE = "truncate"
    DROP_CREATED = "drop-created"


class RollbackSpec(ApiModel):
    on_failure: RollbackAction = RollbackAction.KEEP
    on_delete: RollbackAction = RollbackAction.KEEP


class ApprovalSpec(ApiModel):
    plan_hash: str | None = Field(default=None, max_length=128, pattern=r"^[0-9a-f]{8,128}$")


class JobSpec(ApiModel):
    image: str | None = Field(default=None, max_length=1024)
    resources: ResourceRequirements | None = None
    service_account_name: str | None = Field(default=None, max_length=253)
    node_selector: dict[str, str] = Field(default_factory=dict)
    tolerations: list[Toleration] = Field(default_factory=list, max_length=64)
    backoff_limit: int = Field(default=6, ge=0, le=100)
    active_deadline_seconds: int | None = Field(default=None, ge=1)
    ttl_seconds_after_finished: int = Field(default=3600, ge=0)


class MigrationSpec(ApiModel):
    source: Endpoint
    target: Endpoint
    tables: TableSelection = Field(default_factory=TableSelection)
    schema_: SchemaSpec = Field(default_factory=SchemaSpec, alias="schema")
    copy_: CopySpec = Field(default_factory=CopySpec, alias="copy")
    validation: ValidationSpec = Field(default_factory=ValidationSpec)
    rollback: RollbackSpec = Field(default_factory=RollbackSpec)
    approval: ApprovalSpec = Field(default_factory=ApprovalSpec)
    suspend: bool = False
    job: JobSpec = Field(default_factory=JobSpec)

    model_config = {
        "json_schema_extra": {
            "x-kubernetes-validations": [
                {
                    "rule": "self.source.connectionRef.name != self.target.connectionRef.name",
                    "message": "source and target must be different DatabaseConnections",
                    "fieldPath": ".target.connectionRef.name",
                },
                {
                    "rule": "self.source == oldSelf.source && self.target == oldSelf.target",
                    "message": "source and target are immutable; create a new Migration instead",
                },
            ]
        }
    }


class Phase(StrEnum):
    PENDING = "Pending"
    PLANNING = "Planning"
    AWAITING_APPROVAL = "AwaitingApproval"
    RUNNING = "Running"
    VALIDATING = "Validating"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"
    SUSPENDED = "Suspended"
    ROLLING_BACK = "RollingBack"
    ROLLED_BACK = "RolledBack"


class PlanOperationSummary(StatusModel):
    kind: str
    table: str
    detail: str = ""
    risk: str
    reason: str = ""


class PlanStatus(StatusModel):
    hash: str | None = None
    source_schema_hash: str | None = None
    target_schema_hash: str | None = None
    safe: int = 0
    lossy: int = 0
    destructive: int = 0
    operations: list[PlanOperationSummary] = Field(default_factory=list)
    operations_omitted: int = 0
    warnings: list[str] = Field(default_factory=list)


class ProgressStatus(StatusModel):
    tables_total: int = 0
    tables_done: int = 0
    rows_copied: int = 0
    rows_estimated: int = 0
    percent: float = Field(default=0.0, ge=0, le=100)
    percent_text: str | None = Field(
        default=None, description="percent as text ('42.5%'), for printer columns."
    )
    rows_per_second: float = 0.0
    eta_seconds: int | None = None
    speed: str | None = Field(default=None, description="Human form of rowsPerSecond, for printer columns.")
    eta: str | None = Field(default=None, description="Human form of etaSeconds, for printer columns.")
    updated_at: str | None = None


class TableStatus(StatusModel):
    name: str
    state: str
    rows_copied: int = 0
    rows_estimated: int = 0
    checkpoint: str | None = None
    validation: str | None = None


class WorkerStatus(StatusModel):
    """What one worker pod (one Job completion index) reports; the operator aggregates these."""

    state: str = "running"
    units_total: int = 0
    units_done: int = 0
    rows_copied: int = 0
    rows_per_second: float = 0.0
    tables: list[TableStatus] = Field(default_factory=list)
    message: str | None = None
    updated_at: str | None = None


class MigrationStatus(ConditionedStatus):
    phase: Phase = Phase.PENDING
    plan: PlanStatus | None = None
    progress: ProgressStatus | None = None
    tables: list[TableStatus] = Field(default_factory=list)
    tables_omitted: int = 0
    workers: dict[str, WorkerStatus] = Field(
        default_factory=dict, description="Per worker index; written by the worker pods."
    )
    created_tables: list[str] = Field(
        default_factory=list, description="Target tables this migration created (rollback drop-created)."
    )
    job_name: str | None = None
    attempts: int = 0
    next_attempt_time: str | None = None
    start_time: str | None = None
    completion_time: str | None = None
    message: str | None = None
