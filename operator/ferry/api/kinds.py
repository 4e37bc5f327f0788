"""The kinds of the ferry.dev API: names, scope, printer columns, and their models."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from ferry.api.approval import MigrationApprovalSpec, MigrationApprovalStatus
from ferry.api.base import ApiModel, ConditionedStatus
from ferry.api.connection import DatabaseConnectionSpec, DatabaseConnectionStatus
from ferry.api.migration import MigrationSpec, MigrationStatus
from ferry.api.project import ProjectSpec, ProjectStatus

GROUP: Final = "ferry.dev"
VERSION: Final = "v1alpha1"
API_VERSION: Final = f"{GROUP}/{VERSION}"

_READY_COLUMN: dict[str, str | int] = {
    "name": "Ready",
    "type": "string",
    "jsonPath": '.status.conditions[?(@.type=="Ready")].status',
}
_AGE_COLUMN: dict[str, str | int] = {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}


@dataclass(frozen=True)
class Kind:
    kind: str
    plural: str
    singular: str
    short_names: tuple[str, ...]
    namespaced: bool
    spec_model: type[ApiModel]
    status_model: type[ConditionedStatus]
    printer_columns: tuple[dict[str, str | int], ...] = field(default_factory=tuple)
    description: str = ""

    @property
    def crd_name(self) -> str:
        return f"{self.plural}.{GROUP}"


DATABASE_CONNECTION: Final = Kind(
    kind="DatabaseConnection",
    plural="databaseconnections",
    singular="databaseconnection",
    short_names=("dbc",),
    namespaced=True,
    spec_model=DatabaseConnectionSpec,
    status_model=DatabaseConnectionStatus,
    printer_columns=(
        {"name": "Engine", "type": "string", "jsonPath": ".spec.engine"},
        {"name": "Host", "type": "string", "jsonPath": ".spec.host"},
        _READY_COLUMN,
        {"name": "Version", "type": "string", "jsonPath": ".status.serverVersion"},
        {
            "name": "Reason",
            "type": "string",
            "priority": 1,
            "jsonPath": '.status.conditions[?(@.type=="Ready")].reason',
        },
        _AGE_COLUMN,
    ),
    description="A database Ferry can read from or write to; credentials come only from Secrets.",
)

PROJECT: Final = Kind(
    kind="Project",
    plural="projects",
    singular="project",
    short_names=("fproj",),
    namespaced=False,
    spec_model=ProjectSpec,
    status_model=ProjectStatus,
    printer_columns=(
        {"name": "Namespace", "type": "string", "jsonPath": ".status.namespace"},
        _READY_COLUMN,
        _AGE_COLUMN,
    ),
    description="A team's workspace: one namespace, its members, quota, defaults and policy.",
)

MIGRATION: Final = Kind(
    kind="Migration",
    plural="migrations",
    singular="migration",
    short_names=("mig",),
    namespaced=True,
    spec_model=MigrationSpec,
    status_model=MigrationStatus,
    printer_columns=(
        {"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
        {"name": "Progress", "type": "string", "jsonPath": ".status.progress.percentText"},
        {"name": "Rows", "type": "integer", "jsonPath": ".status.progress.rowsCopied"},
        {"name": "Speed", "type": "string", "jsonPath": ".status.progress.speed"},
        {"name": "ETA", "type": "string", "jsonPath": ".status.progress.eta"},
        {"name": "Validated", "type": "string", "jsonPath": ".status.validation.progress"},
        {"name": "Lag", "type": "number", "jsonPath": ".status.replication.lagSeconds"},
        {"name": "Mode", "type": "string", "priority": 1, "jsonPath": ".spec.mode"},
        {"name": "Plan", "type": "string", "priority": 1, "jsonPath": ".status.plan.hash"},
        _AGE_COLUMN,
    ),
    description="A copy of selected tables from a source DatabaseConnection to a target one.",
)

MIGRATION_APPROVAL: Final = Kind(
    kind="MigrationApproval",
    plural="migrationapprovals",
    singular="migrationapproval",
    short_names=("mapproval",),
    namespaced=True,
    spec_model=MigrationApprovalSpec,
    status_model=MigrationApprovalStatus,
    printer_columns=(
        {"name": "Migration", "type": "string", "jsonPath": ".spec.migrationRef.name"},
        {"name": "Approver", "type": "string", "jsonPath": ".spec.approver"},
        {"name": "Plan", "type": "string", "jsonPath": ".spec.planHash"},
        _AGE_COLUMN,
    ),
    description="One verified person's approval of one plan of a Migration (kubectl ferry approve).",
)

ALL_KINDS: Final = (DATABASE_CONNECTION, PROJECT, MIGRATION, MIGRATION_APPROVAL)
