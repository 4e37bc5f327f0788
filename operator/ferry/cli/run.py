"""`ferry run -f bundle.yaml`: a whole Migration without a cluster.

Plans the schema (ferry.schema), applies the pre-data part, copies every unit with a live
progress display (one bar per table, overall rate and ETA), applies the post-data part
(keys, indexes, foreign keys), validates and prints a summary. Checkpoints live on the
target under the migration UID `local/<name>`, so running the same bundle again after an
interruption resumes where the last committed batches ended.

Whether the plan may run is the operator's gate (ferry.services.gate) with the bundle's
Project's policy, or local mode's; validation is the operator's too
(ferry.services.validation). Exit codes: 0 success; 1 failure (copy, validation,
unreachable database, bad bundle); 2 refused (read-only target, policy, plan with errors,
or destructive operations — DDL or data-destroying settings — without
`spec.schema.allowDestructive` or a matching `spec.approval.planHash`).
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from dataclasses import dataclass
from typing import Any

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

from ferry.api.migration import MigrationSpec
from ferry.cli.bundle import Bundle, BundleError, add_bundle_arguments, load_bundle
from ferry.copy import (
    ProgressEvent,
    ProgressTracker,
    UnitResults,
)
from ferry.db.credentials import SecretError
from ferry.observability.errors import first_line
from ferry.observability.redaction import redact
from ferry.schema import (
    Plan,
    SelectionError,
    TableMapping,
)
from ferry.services.copy_driver import copy_share
from ferry.services.effective import effective_spec
from ferry.services.planning import PlannedMigration, Side, plan_migration, tables_with_checkpoints
from ferry.services.target_load import complete_target, prepare_target
from ferry.services.validation import ValidationReport, validate_migration

EXIT_OK, EXIT_FAILED, EXIT_REFUSED = 0, 1, 2


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "run", help="run a Migration from a YAML bundle without a cluster (resumable)"
    )
    add_bundle_arguments(parser, file_help="YAML bundle with the Migration, connections, Secrets")
    parser.add_argument("--no-progress", action="store_true", help="no live progress display (logs, CI)")
    parser.set_defaults(func=run_migration)


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


def _prepare(bundle: Bundle, name: str, spec: MigrationSpec) -> Prepared:
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


async def _copy(prepared: Prepared, bundle: Bundle, live: LiveProgress) -> UnitResults:
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


def _validate(prepared: Prepared, bundle: Bundle) -> ValidationReport:
    return validate_migration(
        prepared.spec,
        prepared.source,
        prepared.target,
        migration_uid=prepared.uid,
        secrets=bundle.secrets,
        mappings=prepared.mappings,
    )


def _summary(console: Console, name: str, results: UnitResults, report: ValidationReport | None) -> bool:
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
        counts = f"source {check.source_rows:,} target {check.target_rows:,}"
        console.print(f"  {check.table}: {counts}{detail} {mark}{where}", highlight=False)
    return results.ok and (report is None or report.ok)


def run_migration(args: argparse.Namespace) -> int:
    console = Console(stderr=False)
    try:
        bundle = load_bundle(args.file, secrets_from_env=args.secrets_from_env)
        name, spec = bundle.migration(args.migration)
        spec, _ = effective_spec(spec, bundle.governance().defaults)
        prepared = _prepare(bundle, name, spec)
    except (BundleError, SecretError, SelectionError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except Exception as exc:  # a database that cannot be reached or read: say why, without secrets
        print(f"error: cannot plan: {first_line(exc)}", file=sys.stderr)
        return EXIT_FAILED
    decision = bundle.decide(spec, prepared.plan)
    if not decision.may_run:
        print(f"refused: {decision.message}", file=sys.stderr)
        return EXIT_REFUSED
    try:
        # The same steps around the copy as the operator's (ferry.services.target_load).
        prepare_target(prepared.target, prepared.uid, prepared.planned, spec.copy_.truncate_target)
        live = LiveProgress(console, enabled=not args.no_progress and console.is_terminal)
        results = asyncio.run(_copy(prepared, bundle, live))
        if not results.ok:
            _summary(console, name, results, None)
            return EXIT_FAILED
        complete_target(
            spec, prepared.source, prepared.target, prepared.uid, post_data=prepared.plan.post_data
        )
        report = _validate(prepared, bundle)
    except Exception as exc:
        print(f"error: {first_line(exc)}", file=sys.stderr)
        return EXIT_FAILED
    return EXIT_OK if _summary(console, name, results, report) else EXIT_FAILED
