"""ferry.copy: the copy engine. Pure domain code (no Kubernetes); the Job worker and `ferry run` drive it.

Public API (see docs/copy.md for how batches, checkpoints, resume, transforms and validation work):

Sources and targets: PostgreSQL, MySQL/MariaDB, SQLite (a file; as a source read with
`query_only`, its dynamically typed values converted for PostgreSQL by ferry.copy.sqlite_values).

Connections are injected, never built here from URLs:
    Endpoints(source, target)                       PgEndpoint(connect: async () -> asyncpg.Connection)
                                                    MySQLEndpoint(connect: () -> pymysql Connection,
                                                                  stream: async () -> asyncmy Connection)
                                                    SQLiteEndpoint(connect: () -> sqlite3.Connection)
    endpoint_from_spec(spec, credentials) -> Endpoint   factories from a DatabaseConnectionSpec (via ferry.db)

Planning work:
    await plan_units(mappings, source_endpoint, copy_spec) -> list[WorkUnit]
        deterministic: tables by target name; tables over copy_spec.split_threshold_rows with a key
        are split at key quantiles into ranges (lo, hi]. Compute once and give every worker the same list.
    units_for_worker(units, index, count) -> list[WorkUnit]     same units for the same (list, index, count)

Copying:
    job = CopyJob(migration_uid, endpoints, copy_spec, secrets=SecretSource | None, concurrency=2)
    await run_units(job, units, progress=callback(ProgressEvent), should_stop=async () -> bool) -> UnitResults
        each batch and its checkpoint commit in one target transaction; a rerun with the same
        migration_uid resumes from the committed keys. should_stop is awaited before a unit
        starts and between its batches (never inside one): True ends the unit as "stopped"
        with its checkpoint at the last committed batch; it may wait (the worker waits there
        while spec.suspend is set) but must not block the event loop, which the other units
        share. The default never stops (`ferry run` relies on it).
    await copy_unit(job, unit, progress, should_stop=async () -> bool) -> UnitResult   one unit, same rules
    A unit whose source or target went away (ferry.db.outage) is copied again from its checkpoint
    with backoff for up to CopyJob.reconnect.give_up_after seconds; run_units(on_outage=...) hears
    of each wait.
    A MySQL/MariaDB zero date in a column with zeroDates: error (ColumnMapping.zero_dates_error)
    fails its batch (rolled back, checkpoint unchanged): the unit's error is a ZeroDateError
    naming table, column and the batch's key range, never a value (ferry.copy.mysql_values).
    await truncate_targets(target_endpoint, migration_uid, mappings)   copy.truncateTarget, once per migration

Progress:
    ProgressEvent(unit_id, table, rows_copied, rows_delta, estimated_rows, done, checkpoint)
    ProgressTracker: expect(), start(), update(event), rows_per_second() (sliding window), eta_seconds(),
        percent(), tables()

Validation (ferry.copy.validate_ranges, results stored by ferry.copy.validation_store):
    await validate(job, mappings, checksum=bool, chunk_rows=10_000, concurrency=2, repair=None)
        -> list[TableValidation]
        exact row counts; checksums over the projected, transformed columns, both sides in Python;
        read in key ranges (a single integer key is cut by value), `concurrency` ranges at once;
        TableValidation.first_difference names the first differing key range, mismatched_ranges all.
    await plan_ranges(mappings, source_endpoint) -> list[ValidationRange]; validate_ranges(job, ranges, ...)
    ferry.copy.repair.repair_range(job, range): copy the range again (upsert); delete keys the source lacks.

Transforms: ferry.copy.transforms (compile_transform, decrypt(key, blob) -> plaintext bytes).
"""

from ferry.copy.endpoints import (
    Endpoint,
    Endpoints,
    MySQLEndpoint,
    PgEndpoint,
    SQLiteEndpoint,
    endpoint_from_spec,
)
from ferry.copy.progress import ProgressEvent, ProgressTracker
from ferry.copy.runner import CopyJob, Reconnect, UnitResult, UnitResults, copy_unit, run_units
from ferry.copy.transforms import decrypt
from ferry.copy.truncate import truncate_targets
from ferry.copy.units import UnitMismatch, WorkUnit, plan_units, units_for_worker
from ferry.copy.validate import TableValidation
from ferry.copy.validate_ranges import ValidationRange, plan_ranges, validate, validate_ranges

__all__ = [
    "CopyJob",
    "Endpoint",
    "Endpoints",
    "MySQLEndpoint",
    "PgEndpoint",
    "ProgressEvent",
    "ProgressTracker",
    "Reconnect",
    "SQLiteEndpoint",
    "TableValidation",
    "UnitMismatch",
    "UnitResult",
    "UnitResults",
    "ValidationRange",
    "WorkUnit",
    "copy_unit",
    "decrypt",
    "endpoint_from_spec",
    "plan_ranges",
    "plan_units",
    "run_units",
    "truncate_targets",
    "units_for_worker",
    "validate",
    "validate_ranges",
]
