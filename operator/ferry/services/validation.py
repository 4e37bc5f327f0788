"""Validation after the copy: exact row counts, and checksums when the spec asks for them.

Three callers, one range-parallel engine (ferry.copy.validate_ranges): `ferry run` validates in
process (`validate_migration`); in the cluster each pod of the validation Job compares its share
of the key ranges and stores the results on the target (`validate_share`), and the operator
only reads them back (`read_validation`). With `spec.validation.repair` a differing range is
copied again and compared again (ferry.copy.repair).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace

from ferry.api.migration import MigrationSpec
from ferry.copy import CopyJob, TableValidation, ValidationRange
from ferry.copy.repair import repair_range
from ferry.copy.sessions import SessionLedger
from ferry.copy.validate_ranges import Repair, plan_ranges, ranges_for_worker, summarize, validate_ranges
from ferry.copy.validation_store import RangeResult, ensure_store, read_results, record
from ferry.db.credentials import EnvSecretSource, SecretSource
from ferry.schema import TableMapping
from ferry.services.endpoints import endpoints_for
from ferry.services.planning import Side, source_mappings

SKIPPED = "not validated: spec.validation turns off row counts and checksums"


@dataclass
class ValidationReport:
    tables: list[TableValidation]
    per_table: dict[str, str] = field(default_factory=dict)
    skipped: bool = False
    ranges: int = 0  # key ranges compared (read back from the Job's results; 0 in process)
    rows_compared: int = 0  # source rows in them

    @property
    def ok(self) -> bool:
        return all(t.ok for t in self.tables)

    @property
    def repaired(self) -> list[str]:
        return [r for t in self.tables for r in t.repaired_ranges]

    @property
    def mismatched(self) -> list[str]:
        return [r for t in self.tables for r in t.mismatched_ranges]

    @property
    def checksums(self) -> dict[str, str]:
        """Each checksummed table's target digest (ferry.copy.validate_ranges), for the run report."""
        return {t.table: t.checksum for t in self.tables if t.checksum}

    @property
    def summary(self) -> str:
        if self.skipped:
            return SKIPPED
        rows = sum(t.target_rows for t in self.tables)
        bad = [t for t in self.tables if not t.ok]
        if not bad:
            checks = (
                "row counts and checksums" if any(t.checksum_match for t in self.tables) else "row counts"
            )
            repaired = f"; repaired {len(self.repaired)} key ranges" if self.repaired else ""
            return f"{len(self.tables)} tables, {rows} rows copied; {checks} match{repaired}"
        first = bad[0]
        return (
            f"{len(bad)} of {len(self.tables)} tables differ; first: {first.table} "
            f"(source {first.source_rows} rows, target {first.target_rows}"
            + (f", first differing range {first.first_difference}" if first.first_difference else "")
            + ")"
        )


def describe(result: TableValidation) -> str:
    if result.ok:
        repaired = f" (repaired {len(result.repaired_ranges)} key ranges)" if result.repaired_ranges else ""
        return (
            "ok: "
            + ("rows and checksum match" if result.checksum_match else f"{result.target_rows} rows")
            + repaired
        )
    if result.source_rows != result.target_rows:
        return f"row count differs: source {result.source_rows}, target {result.target_rows}"
    if result.checksum_match is False:
        return f"checksum differs at {result.first_difference}"
    return f"row counts differ in {result.first_difference}"  # equal totals, ranges differ


def report_of(tables: list[TableValidation]) -> ValidationReport:
    report = ValidationReport(tables)
    report.per_table = {t.table: describe(t) for t in tables}
    return report


@dataclass
class ShareProgress:
    """How far one validation pod is: the run's ranges, its share of them, and of those how many
    are stored (counting ones a failed pod of the same run stored before it) with their rows."""

    ranges_total: int
    share: int
    done: int = 0
    rows: int = 0


OnProgress = Callable[[ShareProgress], Awaitable[None]]


async def _no_progress(progress: ShareProgress) -> None:
    return None


def _copy_job(
    spec: MigrationSpec, source: Side, target: Side, uid: str, secrets: SecretSource | None
) -> CopyJob:
    endpoints = endpoints_for(source, target)
    return CopyJob(
        migration_uid=uid, endpoints=endpoints, copy=spec.copy_, secrets=secrets or EnvSecretSource()
    )


def _repair(spec: MigrationSpec, job: CopyJob, repair: bool) -> Repair | None:
    if not (repair or spec.validation.repair):
        return None

    async def run(rng: ValidationRange) -> None:
        await repair_range(job, rng)

    return run


def validate_migration(
    spec: MigrationSpec,
    source: Side,
    target: Side,
    *,
    migration_uid: str,
    secrets: SecretSource | None = None,
    mappings: list[TableMapping] | None = None,
    repair: bool = False,
) -> ValidationReport:
    """`ferry run`'s validation, in process: row counts unless `validation.rowCount` is false,
    checksums (which include the counts) when asked, `copy.parallelism` key ranges at once;
    nothing when both are off, and the report says so. `repair` (or spec.validation.repair)
    copies differing ranges again and compares them again."""
    if not (spec.validation.row_count or spec.validation.checksum):
        return ValidationReport([], skipped=True)
    if mappings is None:
        mappings = source_mappings(spec, source, target)
    job = _copy_job(spec, source, target, migration_uid, secrets)

    async def run() -> list[RangeResult]:
        ranges = await plan_ranges(mappings, job.endpoints.source)
        fix = _repair(spec, job, repair)
        return await validate_ranges(job, ranges, checksum=spec.validation.checksum,
                                     concurrency=spec.copy_.parallelism, repair=fix)  # fmt: skip

    return report_of(summarize(asyncio.run(run())))


def validate_share(
    spec: MigrationSpec,
    source: Side,
    target: Side,
    *,
    migration_uid: str,
    run: int,
    index: int,
    count: int,
    secrets: SecretSource,
    concurrency: int = 2,
    on_progress: OnProgress = _no_progress,
    sessions: SessionLedger | None = None,
) -> tuple[int, int]:
    """One validation pod's work: its share of the ranges (every `count`-th), those not yet
    recorded for this run, compared (and repaired when the spec says so), each result stored on
    the target as it is known. `on_progress` hears the share once planned and after each stored
    range (the pod reports it to the Migration's status). Returns (ranges compared now, ranges
    of the share). `sessions` keeps count of the sessions it opens (the pod reports them)."""
    mappings = source_mappings(spec, source, target)
    job = _copy_job(spec, source, target, migration_uid, secrets)
    if sessions is not None:
        job = replace(job, endpoints=sessions.endpoints(job.endpoints))
    target_endpoint = job.endpoints.target

    async def go() -> tuple[int, int]:
        ranges = await plan_ranges(mappings, job.endpoints.source)
        mine = ranges_for_worker(ranges, index, count)
        await ensure_store(target_endpoint)
        ids = {r.range_id for r in mine}
        stored = [r for r in await read_results(target_endpoint, migration_uid, run) if r.range_id in ids]
        done = {r.range_id for r in stored}
        todo = [r for r in mine if r.range_id not in done]
        progress = ShareProgress(len(ranges), len(mine), len(done), sum(r.source_rows for r in stored))
        await on_progress(progress)

        async def store(result: RangeResult) -> None:
            await record(target_endpoint, migration_uid, run, result)
            progress.done, progress.rows = progress.done + 1, progress.rows + result.source_rows
            await on_progress(progress)

        await validate_ranges(job, todo, checksum=spec.validation.checksum, concurrency=concurrency,
                              repair=_repair(spec, job, False), on_result=store)  # fmt: skip
        # Last: this pod's share is complete, and how many ranges it holds (read_validation checks).
        marker = _share_marker(index, count, len(mine), plan_digest(ranges))
        await record(target_endpoint, migration_uid, run, marker)
        return len(todo), len(mine)

    return asyncio.run(go())


SHARE_MARK = "~share "  # range ids of the rows that say a pod's share is complete


class IncompleteValidation(Exception):
    """The validation Job completed but its pods did not store every range, or took their shares
    of different plans (plan_digest)."""


def plan_digest(ranges: Sequence[ValidationRange]) -> str:
    """What a pod planned: every range's id and bounds, hashed. Each pod plans alone from the
    source's rows (MIN, MAX, the sizes that decide a range's keys: ferry.copy.validate_ranges);
    rows written to the source meanwhile could give pods different ranges, whose shares would
    then not cover the table."""
    text = "\n".join(f"{r.range_id} {r.bounds_text()}" for r in ranges)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _share_marker(index: int, count: int, ranges: int, planned: str = "") -> RangeResult:
    """The row saying a pod's share is stored: its `ranges`, and the plan_digest it took them from."""
    bounds = json.dumps([planned]) if planned else "[]"
    return RangeResult(f"{SHARE_MARK}{index}/{count}", "", -1, bounds, ranges, ranges, None, None)


def _complete(results: Sequence[RangeResult]) -> list[RangeResult]:
    """The range results, once every pod's share is known to be stored; else IncompleteValidation."""
    marks = [r for r in results if r.range_id.startswith(SHARE_MARK)]
    ranges = [r for r in results if not r.range_id.startswith(SHARE_MARK)]
    count = int(marks[0].range_id.rsplit("/", 1)[1]) if marks else 0
    expected = sum(m.source_rows for m in marks)
    if not marks or len(marks) != count or expected != len(ranges):
        raise IncompleteValidation(
            f"the validation Job completed, but {len(marks)} of {count or '?'} pods recorded their share and "
            f"{len(ranges)} of {expected or '?'} key ranges are stored"
        )
    if len({m.bounds for m in marks}) > 1:  # pods of a version before plan_digest store "[]"
        raise IncompleteValidation(
            "the validation Job completed, but its pods planned different key ranges: the source's "
            "rows changed while they planned (stop the writes to the source before validating)"
        )
    return ranges


def read_validation(
    spec: MigrationSpec, source: Side, target: Side, *, migration_uid: str, run: int
) -> ValidationReport:
    """What the validation Job of run `run` stored on the target, as a report (the operator's
    only part in validation: it reads, it does not compare)."""
    if not (spec.validation.row_count or spec.validation.checksum):
        return ValidationReport([], skipped=True)
    endpoint = endpoints_for(source, target).target
    results: Sequence[RangeResult] = asyncio.run(read_results(endpoint, migration_uid, run))
    ranges = _complete(results)
    report = report_of(summarize(ranges))
    report.ranges, report.rows_compared = len(ranges), sum(r.source_rows for r in ranges)
    return report
