"""Validation after the copy: exact row counts, and checksums when the spec asks for them."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field

from ferry.api.migration import MigrationSpec
from ferry.copy import CopyJob, TableValidation, validate
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

    @property
    def ok(self) -> bool:
        return all(t.ok for t in self.tables)

    @property
    def checksums(self) -> dict[str, str]:
        """Each checksummed table's target digest (ferry.copy.validate), for the run report."""
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
            return f"{len(self.tables)} tables, {rows} rows copied; {checks} match"
        first = bad[0]
        return (
            f"{len(bad)} of {len(self.tables)} tables differ; first: {first.table} "
            f"(source {first.source_rows} rows, target {first.target_rows}"
            + (f", first differing range {first.first_difference}" if first.first_difference else "")
            + ")"
        )


def describe(result: TableValidation) -> str:
    if result.ok:
        return "ok: " + ("rows and checksum match" if result.checksum_match else f"{result.target_rows} rows")
    if result.source_rows != result.target_rows:
        return f"row count differs: source {result.source_rows}, target {result.target_rows}"
    return f"checksum differs at {result.first_difference}"


def validate_migration(
    spec: MigrationSpec,
    source: Side,
    target: Side,
    *,
    migration_uid: str,
    secrets: SecretSource | None = None,
    mappings: list[TableMapping] | None = None,
) -> ValidationReport:
    """The one validation of the operator and `ferry run`: row counts unless
    `validation.rowCount` is false, checksums (which include the counts) when asked; nothing
    when both are off, and the report says so."""
    if not (spec.validation.row_count or spec.validation.checksum):
        return ValidationReport([], skipped=True)
    if mappings is None:
        mappings = source_mappings(spec, source, target)
    job = CopyJob(
        migration_uid=migration_uid,
        endpoints=endpoints_for(source, target),
        copy=spec.copy_,
        secrets=secrets or EnvSecretSource(),
    )
    results = asyncio.run(validate(job, mappings, checksum=spec.validation.checksum))
    report = ValidationReport(results)
    report.per_table = {r.table: describe(r) for r in results}
    return report
