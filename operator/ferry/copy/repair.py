"""Repair of a validation range: delete its rows on the target and copy them again from the source.

The range's rows are deleted in one target transaction, then copied by the copy engine as a
work unit of their own (ferry.copy.runner.copy_unit: the same projection, transforms and batch
commits). The unit's id is new on every repair, so a pod killed between the delete and the end
of the copy does not resume a checkpoint whose earlier rows were deleted again: the next
comparison finds the range still differing and repairs it from scratch.

Foreign keys on the target stay in force: a delete that another table's rows refer to fails
the repair of that range with the database's error (nothing is deleted then), and a cascading
foreign key deletes the referring rows too, which their own ranges then find and repair.
"""

from __future__ import annotations

import uuid

from ferry.copy.runner import CopyJob, copy_unit
from ferry.copy.sql import source_relation
from ferry.copy.units import WorkUnit
from ferry.copy.validate_ranges import ValidationRange, range_predicates
from ferry.copy.validation_store import execute


class RepairError(Exception):
    """A range could not be copied again; names the range and the copy's error, never a row."""


def delete_statement(job: CopyJob, rng: ValidationRange) -> tuple[str, list[object]]:
    """DELETE of the range's rows on the target (the whole table when the range is the table)."""
    mapping, dialect = rng.mapping, job.endpoints.target.dialect
    relation = source_relation(dialect, mapping.target_schema, mapping.target_table, mapping.source_only)
    ranges = range_predicates(job, rng)
    if ranges is None:
        return f"DELETE FROM {relation}", []
    return f"DELETE FROM {relation} WHERE {ranges[1].sql}", list(ranges[1].params)


async def repair_range(job: CopyJob, rng: ValidationRange) -> int:
    """Copy the range again; the rows copied."""
    await execute(job.endpoints.target, [delete_statement(job, rng)])
    unit = WorkUnit(f"repair:{rng.range_id}:{uuid.uuid4().hex[:12]}", rng.mapping, rng.lo, rng.hi)
    result = await copy_unit(job, unit, progress=lambda event: None)
    if result.state != "done":
        raise RepairError(f"repairing {rng.range_id} ({rng.describe()}) failed: {result.error}")
    return result.rows_copied
