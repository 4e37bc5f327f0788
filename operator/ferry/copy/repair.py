"""Repair of a validation range: copy its rows again from the source, then delete on the target
what the source does not have.

The range's source rows are copied by the copy engine as a work unit of their own
(ferry.copy.runner.copy_unit: the same projection, transforms and batch commits) with
`onConflict: update`, so a row present on both sides is overwritten in place and a missing one
inserted. Rows are not deleted first: a target row other tables' foreign keys refer to (most
rows of a parent table) would refuse the delete. Then the keys of the range are read on both
sides and the target's keys the source lacks are deleted (bounded by the range: ranges of split
tables hold about 20,000 keys; a table that is one range holds all its keys in memory here).
The unit's id is new on every repair, so a rerun never resumes an earlier repair's checkpoint;
copying again is idempotent. A table without a key is deleted and copied again whole.

A stray row that other rows refer to cannot be deleted: the database's error fails that range's
repair (nothing of it is deleted), and the message names the range, never a row.
"""

from __future__ import annotations

import contextlib
import dataclasses
import uuid
from collections.abc import Sequence

from ferry.api.migration import OnConflict
from ferry.copy.canonical import NULL_MARK, canonical_for
from ferry.copy.runner import CopyJob, copy_unit
from ferry.copy.sql import Dialect, Predicate, param_mark, pg_literal, quote_ident, source_relation
from ferry.copy.streams import stream_rows
from ferry.copy.units import WorkUnit
from ferry.copy.validate_ranges import ValidationRange, range_predicates
from ferry.copy.validation_store import execute
from ferry.schema.mapping import TableMapping

DELETE_BATCH = 500  # stray keys per DELETE statement


class RepairError(Exception):
    """A range could not be copied again; names the range and the copy's error, never a row."""


def _target_relation(job: CopyJob, mapping: TableMapping) -> str:
    dialect = job.endpoints.target.dialect
    return source_relation(dialect, mapping.target_schema, mapping.target_table, mapping.source_only)


def delete_statement(job: CopyJob, rng: ValidationRange) -> tuple[str, list[object]]:
    """DELETE of the range's rows on the target (the whole table when the range is the table)."""
    relation = _target_relation(job, rng.mapping)
    ranges = range_predicates(job, rng)
    if ranges is None:
        return f"DELETE FROM {relation}", []
    return f"DELETE FROM {relation} WHERE {ranges[1].sql}", list(ranges[1].params)


def _key_columns(mapping: TableMapping) -> list[tuple[str, str, str]]:
    """(source name, target name, target type) of each key column."""
    by_source = {c.source: c for c in mapping.columns}
    return [(k, by_source[k].target, by_source[k].target_type) for k in mapping.key]


def _keys_sql(dialect: Dialect, relation: str, names: Sequence[str], where: list[str]) -> str:
    keys = ", ".join(quote_ident(dialect, n) for n in names)
    condition = " WHERE " + " AND ".join(where) if where else ""
    return f"SELECT {keys} FROM {relation}{condition}"


async def _canonical_keys(job: CopyJob, rng: ValidationRange, side: str) -> dict[str, tuple[object, ...]]:
    """The range's keys on one side, canonical text → the side's own key values."""
    mapping, columns = rng.mapping, _key_columns(rng.mapping)
    canons = [canonical_for(t) for _, _, t in columns]
    ranges = range_predicates(job, rng)
    if side == "source":
        endpoint = job.endpoints.source
        relation = source_relation(
            endpoint.dialect, mapping.source_schema, mapping.source_table, mapping.source_only
        )
        where = (
            [f"({mapping.where.replace('%', '%%') if endpoint.dialect == 'mysql' else mapping.where})"]
            if mapping.where
            else []
        )
        predicate = ranges[0] if ranges else Predicate("TRUE")
        names = [s for s, _, _ in columns]
    else:
        endpoint, relation, where = job.endpoints.target, _target_relation(job, mapping), []
        predicate = ranges[1] if ranges else Predicate("TRUE")
        names = [t for _, t, _ in columns]
    sql = _keys_sql(endpoint.dialect, relation, names, [*where, predicate.sql])
    found: dict[str, tuple[object, ...]] = {}
    async with contextlib.aclosing(stream_rows(endpoint, sql, predicate.params)) as chunks:
        async for rows in chunks:
            for row in rows:
                text = "\x1e".join(NULL_MARK if v is None else c(v) for v, c in zip(row, canons, strict=True))
                found[text] = tuple(row)
    return found


def _delete_keys(dialect: Dialect, relation: str, names: Sequence[str], types: Sequence[str],
                 keys: Sequence[tuple[object, ...]]) -> tuple[str, list[object]]:  # fmt: skip
    """DELETE of the rows with these keys (target column names, the target's own values)."""
    terms: list[str] = []
    params: list[object] = []
    for key in keys:
        if dialect == "postgresql":  # values inlined as typed literals, as ferry.copy.sql does
            parts = [
                f"{quote_ident(dialect, n)} = {pg_literal(str(v))}::{t}"
                for n, t, v in zip(names, types, key, strict=True)
            ]
        else:
            parts = [f"{quote_ident(dialect, n)} = {param_mark(dialect)}" for n in names]
            params.extend(key)
        terms.append("(" + " AND ".join(parts) + ")")
    return f"DELETE FROM {relation} WHERE " + " OR ".join(terms), params


async def _delete_strays(job: CopyJob, rng: ValidationRange) -> int:
    source = await _canonical_keys(job, rng, "source")
    target = await _canonical_keys(job, rng, "target")
    strays = [key for text, key in target.items() if text not in source]
    columns = _key_columns(rng.mapping)
    names, types = [t for _, t, _ in columns], [t for _, _, t in columns]
    relation, dialect = _target_relation(job, rng.mapping), job.endpoints.target.dialect
    statements = [
        _delete_keys(dialect, relation, names, types, strays[i : i + DELETE_BATCH])
        for i in range(0, len(strays), DELETE_BATCH)
    ]
    if statements:
        await execute(job.endpoints.target, statements)
    return len(strays)


async def repair_range(job: CopyJob, rng: ValidationRange) -> int:
    """Copy the range again (rows on both sides overwritten, missing ones inserted), then delete
    the target's rows the source lacks; the rows copied."""
    unit = WorkUnit(f"repair:{rng.range_id}:{uuid.uuid4().hex[:12]}", rng.mapping, rng.lo, rng.hi)
    if rng.mapping.key:
        upsert = dataclasses.replace(job, copy=job.copy.model_copy(update={"on_conflict": OnConflict.UPDATE}))
    else:  # no key to upsert by: the table again, whole
        await execute(job.endpoints.target, [delete_statement(job, rng)])
        upsert = job
    result = await copy_unit(upsert, unit, progress=lambda event: None)
    if result.state != "done":
        raise RepairError(f"repairing {rng.range_id} ({rng.describe()}) failed: {result.error}")
    if rng.mapping.key:
        try:
            await _delete_strays(job, rng)
        except Exception as exc:
            why = str(exc).splitlines()[0] if str(exc) else type(exc).__name__  # the message, not DETAIL
            raise RepairError(
                f"repairing {rng.range_id} ({rng.describe()}): deleting the target's rows the source lacks "
                f"failed: {why}"
            ) from exc
    return result.rows_copied
