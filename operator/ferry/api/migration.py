"""Migration: what to move from one DatabaseConnection to another, and how far it got."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field

from ferry.api.base import (
    PROJECT_DEFAULTED,
    ApiModel,
)
from ferry.api.migration_endpoints import Endpoint, SchemaName, SourceEndpoint, TargetEndpoint
from ferry.api.migration_job import JobSpec
from ferry.api.migration_online import ApplyMethod, CutoverSpec, MigrationMode, OnlineSpec
from ferry.api.migration_operations import ScheduleSpec, Throttle
from ferry.api.migration_status import (  # the status models, re-exported where the kind lives
    TERMINAL,
    CutoverStatus,
    EarlierPods,
    EffectiveSettings,
    JobKind,
    MigrationStatus,
    MigrationUsage,
    Phase,
    PlanOperationSummary,
    PlanStatus,
    PodFigures,
    ProgressStatus,
    ReplicationState,
    ReplicationStatus,
    StatusEvent,
    TableState,
    TableStatus,
    WorkerSessions,
    WorkerState,
    WorkerStatus,
)
from ferry.api.migration_tables import (
    ColumnSelection,
    TableOverride,
    TableSelection,
    Transform,
    TransformType,
    ZeroDates,
)
from ferry.api.project_notifications import Notification


class SchemaMode(StrEnum):
    CREATE = "create"
    DIFF = "diff"
    NONE = "none"


class PrivilegesMode(StrEnum):
    SKIP = "skip"
    COPY = "copy"


class SchemaSpec(ApiModel):
    """How the target's schema is made (docs/schema.md)."""

    mode: SchemaMode = Field(
        default=SchemaMode.DIFF,
        description="diff: create what is missing and change existing tables to match; create: create "
        "what is missing, leave existing tables as they are (differences are warnings); none: change "
        "nothing (what is missing is a plan error).",
    )
    allow_destructive: bool = Field(
        default=False,
        description="Run destructive operations without an approval, where the Project's policy allows it.",
    )
    privileges: PrivilegesMode = Field(
        default=PrivilegesMode.SKIP,
        description="copy: owners and grants of the carried tables, views, sequences and routines "
        "follow them (PostgreSQL to PostgreSQL), their roles renamed by roleMapping; skip: the plan "
        "names them as not carried.",
    )
    role_mapping: dict[str, Annotated[str, Field(min_length=1, max_length=63)]] = Field(
        default_factory=dict,
        max_length=256,
        description="Source role name to target role name, for privileges: copy. A role not named "
        "keeps its name; every role must exist on the target.",
        json_schema_extra={"maxProperties": 256},
    )
    personal_data_sample: int = Field(
        default=100,
        ge=0,
        le=10_000,
        description="Planning reads at most this many rows of each copied table's text columns to "
        "find personal data by value (e-mails, phone numbers, card numbers, IBANs, IP addresses); "
        "only counts reach the plan. 0: classify by column name only.",
    )


class OnConflict(StrEnum):
    ERROR = "error"
    SKIP = "skip"
    UPDATE = "update"


class CopySpec(ApiModel):
    """How rows are copied: batches, workers, rate, conflicts."""

    batch_size: int | None = Field(
        default=None,
        ge=1,
        le=10_000_000,
        description="Rows per batch, each committed with its checkpoint. Unset: the Project's "
        "defaults.batchSize, else 500000 where raw COPY data streams through to PostgreSQL, 50000 "
        "where rows are converted.",
        json_schema_extra=PROJECT_DEFAULTED,
    )
    parallelism: int = Field(
        default=2,
        ge=1,
        le=64,
        description="Worker pods (and concurrent units). Unset: the Project's defaults.parallelism, else 2.",
        json_schema_extra=PROJECT_DEFAULTED,
    )
    throttle: Throttle = Field(
        default_factory=Throttle,
        description="Rate limits of the copy across all workers. Unset: the Project's defaults.throttle, "
        "else its policy maxima, else none.",
        json_schema_extra=PROJECT_DEFAULTED,
    )
    on_conflict: OnConflict = Field(
        default=OnConflict.ERROR,
        description="A copied row whose key the target already holds: error (fail), skip (keep the "
        "target's row) or update (overwrite it).",
    )
    truncate_target: bool = Field(
        default=False, description="Empty each target table before copying into it."
    )
    split_threshold_rows: int = Field(
        default=2_000_000, ge=1000, description="Tables with more rows are split into key ranges."
    )
    zero_dates: ZeroDates = Field(
        default=ZeroDates.NULL,
        description="MySQL/MariaDB source: what the copy does with zero dates of DATE, DATETIME and "
        "TIMESTAMP columns. null: written as NULL, and a NOT NULL column accepts NULL on the target "
        "(a lossy convert_values in the plan). error: the target column keeps NOT NULL and the copy "
        "fails on a zero date, writing nothing of that batch. tables.overrides[].zeroDates decides "
        "per column.",
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
    """What is checked after the copy."""

    row_count: bool = Field(
        default=True,
        description="Compare row counts after the copy. Unset: the Project's "
        "defaults.rowCountValidation, else true.",
        json_schema_extra=PROJECT_DEFAULTED,
    )
    checksum: bool = Field(
        default=False,
        description="Compare per-range checksums of the copied projection (implies row counts). "
        "Unset: the Project's defaults.checksumValidation, else false.",
        json_schema_extra=PROJECT_DEFAULTED,
    )
    repair: bool = Field(
        default=False,
        description="Key ranges that differ are copied again from the source (rows the source lacks "
        "deleted) and validated again (kubectl ferry repair sets it on a Migration whose validation failed).",
    )


class RollbackAction(StrEnum):
    KEEP = "keep"
    TRUNCATE = "truncate"
    DROP_CREATED = "drop-created"


class RollbackSpec(ApiModel):
    """What happens to the target when the Migration fails or is deleted (docs/migrations.md)."""

    on_failure: RollbackAction = Field(
        default=RollbackAction.KEEP,
        description="After the last attempt failed: keep what was copied, truncate the copied tables, or "
        "drop-created (drop the tables this Migration created).",
    )
    on_delete: RollbackAction = Field(
        default=RollbackAction.KEEP,
        description="When the Migration is deleted (from a finalizer): keep, truncate or drop-created.",
    )


class ApprovalSpec(ApiModel):
    """Approval in the spec (GitOps): the plan hash a person reviewed."""

    plan_hash: str | None = Field(
        default=None,
        max_length=128,
        pattern=r"^[0-9a-f]{8,128}$",
        description="The hash of the approved plan (status.plan.hash); a changed plan no longer matches.",
    )
    cutover: bool = Field(
        default=False,
        description="Online mode, when the Project's policy sets cutoverRequiresApproval: the requested "
        "cutover starts only once this is true as well.",
    )


class MigrationSpec(ApiModel):
    """What to copy from which source to which target, and how."""

    source: SourceEndpoint = Field(description="Where the data comes from.")
    target: TargetEndpoint = Field(description="Where it goes.")
    tables: TableSelection = Field(default_factory=TableSelection)
    schema_: SchemaSpec = Field(default_factory=SchemaSpec, alias="schema")
    copy_: CopySpec = Field(default_factory=CopySpec, alias="copy")
    validation: ValidationSpec = Field(default_factory=ValidationSpec)
    rollback: RollbackSpec = Field(default_factory=RollbackSpec)
    approval: ApprovalSpec = Field(default_factory=ApprovalSpec)
    suspend: bool = Field(
        default=False, description="Stop the workers; the copy resumes from its checkpoints when false again."
    )
    job: JobSpec = Field(default_factory=JobSpec)
    mode: MigrationMode = Field(
        default=MigrationMode.OFFLINE,
        description="offline (copy once) or online (copy, then follow the source's changes until "
        "cutover). Immutable: the capture must open before the first row is copied.",
    )
    cutover: CutoverSpec = Field(default_factory=CutoverSpec)
    online: OnlineSpec = Field(default_factory=OnlineSpec)
    schedule: ScheduleSpec = Field(default_factory=ScheduleSpec)
    notifications: list[Notification] = Field(
        default_factory=list,
        max_length=8,
        description="This Migration's own webhooks, told in addition to its Project's notifications.",
    )

    model_config = {
        "json_schema_extra": {
            "x-kubernetes-validations": [
                {
                    "rule": "(has(self.mode) ? self.mode : 'offline') == "
                    "(has(oldSelf.mode) ? oldSelf.mode : 'offline')",
                    "message": "mode is immutable; create a new Migration instead",
                    "fieldPath": ".mode",
                },
                {
                    "rule": "(has(self.online) && has(self.online.apply) ? self.online.apply : 'auto') == "
                    "(has(oldSelf.online) && has(oldSelf.online.apply) ? oldSelf.online.apply : 'auto')",
                    "message": "online.apply is immutable: a follower may be applying with the method "
                    "chosen at its start",
                    "fieldPath": ".online.apply",
                },
                {
                    "rule": "!has(self.cutover) || !self.cutover.requested || "
                    "(has(self.mode) && self.mode == 'online')",
                    "message": "cutover applies to online migrations only (spec.mode: online)",
                    "fieldPath": ".cutover.requested",
                },
                {
                    "rule": "!has(oldSelf.cutover) || !oldSelf.cutover.requested || "
                    "(has(self.cutover) && self.cutover.requested)",
                    "message": "a requested cutover cannot be taken back",
                    "fieldPath": ".cutover.requested",
                },
                {
                    "rule": "!has(self.source.schemas) || !has(self.target.schema)",
                    "message": "with source.schemas each table keeps its schema's name on the target; "
                    "rename schemas with target.schemaMapping instead of target.schema",
                    "fieldPath": ".target.schema",
                },
                {
                    "rule": "!has(self.target.schemaMapping) || self.target.schemaMapping.size() == 0 || "
                    "(has(self.source.schemas) && "
                    "self.target.schemaMapping.all(k, k in self.source.schemas))",
                    "message": "target.schemaMapping names source schemas, which must be listed in "
                    "source.schemas",
                    "fieldPath": ".target.schemaMapping",
                },
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


__all__ = [
    "TERMINAL",
    "ApplyMethod",
    "ApprovalSpec",
    "ColumnSelection",
    "CopySpec",
    "CutoverSpec",
    "CutoverStatus",
    "EarlierPods",
    "EffectiveSettings",
    "Endpoint",
    "JobKind",
    "JobSpec",
    "MigrationMode",
    "MigrationSpec",
    "MigrationStatus",
    "MigrationUsage",
    "OnConflict",
    "OnlineSpec",
    "Phase",
    "PlanOperationSummary",
    "PlanStatus",
    "PodFigures",
    "PrivilegesMode",
    "ProgressStatus",
    "ReplicationState",
    "ReplicationStatus",
    "RollbackAction",
    "RollbackSpec",
    "SchemaMode",
    "SchemaName",
    "SchemaSpec",
    "SourceEndpoint",
    "StatusEvent",
    "TableOverride",
    "TableSelection",
    "TableState",
    "TableStatus",
    "TargetEndpoint",
    "Transform",
    "TransformType",
    "ValidationSpec",
    "WorkerSessions",
    "WorkerState",
    "WorkerStatus",
    "ZeroDates",
]
