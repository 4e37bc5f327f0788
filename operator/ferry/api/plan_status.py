"""What a Migration's status says about its plan: the bounded summary of the plan, and each
MigrationApproval judged for it."""

from __future__ import annotations

from pydantic import Field

from ferry.api.base import StatusModel


class PlanOperationSummary(StatusModel):
    """One operation of the plan."""

    kind: str = Field(description="What it does (create_table, add_column, alter_type, ...).")
    table: str = Field(description="The target table it applies to.")
    detail: str = Field(default="", description="The column, constraint or index and the change.")
    risk: str = Field(description="safe, lossy or destructive.")
    reason: str = Field(default="", description="Why the risk is what it is.")
    affected_rows: int = Field(default=0, description="Target rows the operation touches, where known.")


class PlanStatus(StatusModel):
    """The current plan, summarized (the whole plan is in configMap)."""

    hash: str | None = Field(
        default=None, description="The plan's hash: what spec.approval.planHash approves."
    )
    selection_hash: str | None = Field(
        default=None,
        description="What the copy writes (tables, columns, filters, transforms); workers check it.",
    )
    source_schema_hash: str | None = Field(
        default=None, description="The source schema the plan was made from."
    )
    target_schema_hash: str | None = Field(
        default=None, description="The target schema the plan was made against."
    )
    safe: int = Field(default=0, description="Operations that lose nothing.")
    lossy: int = Field(default=0, description="Operations that may lose precision or narrow values.")
    destructive: int = Field(default=0, description="Operations that drop or rewrite target data.")
    personal_columns: int = Field(
        default=0, description="Copied columns that look personal (by name or sampled values)."
    )
    unprotected_personal_columns: int = Field(
        default=0, description="Of those, the ones copied without a protecting transform."
    )
    operations: list[PlanOperationSummary] = Field(
        default_factory=list, description="The plan's operations (bounded; see operationsOmitted)."
    )
    operations_omitted: int = Field(default=0, description="Operations beyond those listed.")
    warnings: list[str] = Field(
        default_factory=list, description="What the plan cannot carry or does differently, named."
    )
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

    name: str = Field(description="The MigrationApproval's name.")
    approver: str = Field(description="Who approved, as the apiserver authenticated them.")
    plan_hash: str = Field(description="The plan hash approved.")
    counted: bool = Field(description="Whether it counts towards the current plan's approvals.")
    reason: str | None = Field(default=None, description="Why it does not count.")
