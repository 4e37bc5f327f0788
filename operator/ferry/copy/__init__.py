"""ferry.copy: the copy engine (placeholder exports; documented fully below once stable)."""

from ferry.copy.endpoints import Endpoints, MySQLEndpoint, PgEndpoint, SQLiteEndpoint
from ferry.copy.progress import ProgressEvent, ProgressTracker
from ferry.copy.runner import CopyJob, UnitResult, UnitResults, copy_unit, run_units
from ferry.copy.units import WorkUnit, plan_units, units_for_worker
from ferry.copy.validate import TableValidation, validate

__all__ = [
    "CopyJob",
    "Endpoints",
    "MySQLEndpoint",
    "PgEndpoint",
    "ProgressEvent",
    "ProgressTracker",
    "SQLiteEndpoint",
    "TableValidation",
    "UnitResult",
    "UnitResults",
    "WorkUnit",
    "copy_unit",
    "plan_units",
    "run_units",
    "units_for_worker",
    "validate",
]
