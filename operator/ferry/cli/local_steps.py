"""The steps of a local run (`ferry run`) that the offline and the online flow share: plan, copy
with a live display, validate, summarize. Checkpoints live on the target under the migration UID
`local/<name>`, so running the same bundle again resumes where the last committed batches ended.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

from ferry.api.migration import MigrationSpec
from ferry.cli.bundle import Bundle
from ferry.copy import ProgressEvent, ProgressTracker, UnitResults
from ferry.observability.redaction import redact
from ferry.schema import Plan, TableMapping
from ferry.services.copy_driver import copy_share
from ferry.services.planning import PlannedMigration, Side, plan_migration, tables_with_checkpoints
from ferry.services.validation import ValidationReport, validate_migration


@dataclass
class Prepared:
    spec: MigrationSpec
    uid: str
    planned: PlannedMigration
    source: Side
    target: Side

    @property
    def plan(self) -> Plan:
        return self.planned.plan

    @property
    def mappings(self) -> list[TableMapping]:
        return self.planned.mappings


def prepare(bundle: Bundle, name: str, spec: MigrationSpec) -> Prepared:
    source, target = bundle.sides(spec)
    uid = f"local/{name}"
    # A rerun after an interruption: the tables it already copied into are its own, so mode
    # create still gives them the keys and indexes deferred until after the load.
    planned = plan_migration(spec, source, target, owned_tables=tables_with_checkpoints(target, uid))
    return Prepared(spec, uid, planned, source, target)


class LiveProgress:
    """One bar per target table and an overall line with rows/s over a sliding window and ETA."""

    def __init__(self, console: Console, enabled: bool) -> None:
        self.tracker = ProgressTracker()
        self.enabled = enabled
        self.bars = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[note]}"), TimeRemainingColumn(), console=console, disable=not enabled,
        )  # fmt: skip
        self.tasks: dict[str, TaskID] = {}
        self.overall = self.bars.add_task("[bold]all tables", total=None, note="")

    def expect(self, table: str, unit_id: str, estimated: int) -> None:
        self.tracker.expect(unit_id, table, estimated)

    def __call__(self, event: ProgressEvent) -> None:
        self.tracker.update(event)
        table = self.tracker.tables()[event.table]
        if event.table not in self.tasks:
            self.tasks[event.table] = self.bars.add_task(event.table, total=None, note="")
        total = max(table.estimated_rows, table.rows_copied) or None
        self.bars.update(self.tasks[event.table], completed=table.rows_copied, total=total,
                         note="done" if table.done else "")  # fmt: skip
        rate, eta = self.tracker.rows_per_second(), self.tracker.eta_seconds()
        note = f"{rate:,.0f} rows/s" + (f", ETA {eta:,.0f} s" if eta is not None else "")
        self.bars.update(self.overall, completed=self.tracker.rows_copied,
                         total=self.tracker.rows_estimated or None, note=note)  # fmt: skip


async def copy_rows(prepared: Prepared, bundle: Bundle, live: LiveProgress) -> UnitResults:
    spec = prepared.spec
    share = await copy_share(
        spec, prepared.source, prepared.target, migration_uid=prepared.uid, secrets=bundle.secrets,
        mappings=prepared.mappings, concurrency=spec.copy_.parallelism,
    )  # fmt: skip
    for unit in share.units:
        live.expect(unit.table, unit.unit_id, unit.estimated_rows)
    live.tracker.start()
    with live.bars:
        return await share.run(progress=live)


def validate(prepared: Prepared, bundle: Bundle, repair: bool = False) -> ValidationReport:
    """In process, through the same range-parallel code as the cluster's validation Job."""
    return validate_migration(
        prepared.spec,
        prepared.source,
        prepared.target,
        migration_uid=prepared.uid,
        secrets=bundle.secrets,
        mappings=prepared.mappings,
        repair=repair,
    )


def summary(console: Console, name: str, results: UnitResults, report: ValidationReport | None) -> bool:
    console.print(f"Migration {name}: {results.rows_copied:,} rows in {len(results.results)} units")
    for failed in results.failed:
        error = redact(failed.error or "")
        console.print(
            f"[bold red]failed:[/] {failed.unit_id} at {failed.checkpoint}: {error}", highlight=False
        )
    checks = report.tables if report else []
    if report and report.skipped:
        console.print(f"  {report.summary}", highlight=False)
    for check in checks:
        mark = "[green]ok[/]" if check.ok else "[bold red]MISMATCH[/]"
        detail = (
            ""
            if check.checksum_match is None
            else (" checksum ok" if check.checksum_match else " checksum differs")
        )
        where = f" first difference: {check.first_difference}" if check.first_difference else ""
        if check.repaired_ranges:
            where += f" (repaired {len(check.repaired_ranges)} key ranges)"
        counts = f"source {check.source_rows:,} target {check.target_rows:,}"
        console.print(f"  {check.table}: {counts}{detail} {mark}{where}", highlight=False)
    return results.ok and (report is None or report.ok)
