"""What a Migration's status says about its plan: the bounded summary of the plan, and each
MigrationApproval judged for it."""

from __future__ import annotations

from pydantic import Field

from ferry.api.base import StatusModel


class PlanOperationSummary(StatusModel):
    kind: str
    table: str
    detail: str = ""
    risk: str
    reason: str = ""
    affected_rows: int = 0


class PlanStatus(StatusModel):
    hash: str | None = None
    selection_hash: str | None = Field(
        default=None,
        description="What the copy writes (tables, columns, filters, transforms); workers check it.",
    )
    source_schema_hash: str | None = None
    target_schema_hash: str | None = None
    safe: int = 0
    lossy: int = 0
    destructive: int = 0
    personal_columns: int = Field(
        default=0, description="Copied columns that look personal (by name or sampled values)."
    )
    unprotected_personal_columns: int = Field(
        default=0, description="Of those, the ones copied without a protecting transform."
    )
    operations: list[PlanOperationSummary] = Field(default_factory=list)
    operations_omitted: int = 0
    warnings: list[str] = Field(default_factory=list)
    warnings_omitted: int = Field(
        default=0, description="Warnings beyond those listed (`ferry plan` shows all)."
    )
    config_map: str | None = Field(
        default=None,
        description="ConfigMap holding the whole plan: every operation with its DDL, the warnings, "
        "errors and the SQL script (`kubectl ferry plan mig/NAME`).",
    )


class ApprovalEntry(StatusModel):
    """One MigrationApproval of this Migration and whether it counts for the current plan."""

    name: str
    approver: str
    plan_hash: str
    counted: bool
    reason: str | None = Field(default=None, description="Why it does not count.")
