"""`ferry run -f bundle.yaml`: a whole Migration without a cluster.

Plans the schema (ferry.schema), applies the pre-data part, copies every unit with a live
progress display (one bar per table, overall rate and ETA), applies the post-data part
(keys, indexes, foreign keys), validates and prints a summary. Checkpoints live on the
target under the migration UID `local/<name>`, so running the same bundle again after an
interruption resumes where the last committed batches ended. With `spec.mode: online` the
copy is followed by the source's changes until `ferry cutover` (ferry.cli.online).

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
from datetime import UTC, datetime
from typing import Any

from rich.console import Console

from ferry.api.migration import MigrationMode
from ferry.cli.bundle import BundleError, add_bundle_arguments, load_bundle
from ferry.cli.exits import EXIT_FAILED, EXIT_OK, EXIT_REFUSED
from ferry.cli.local_report import write_local_report
from ferry.cli.local_steps import LiveProgress, copy_rows, prepare, summary, validate
from ferry.cli.online import run_online
from ferry.copy import UnitResults
from ferry.db.credentials import SecretError
from ferry.observability.errors import first_line
from ferry.schema import SelectionError
from ferry.services.effective import effective_spec
from ferry.services.target_load import complete_target, prepare_target
from ferry.services.validation import ValidationReport

__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_REFUSED", "register", "run_migration"]


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "run", help="run a Migration from a YAML bundle without a cluster (resumable)"
    )
    add_bundle_arguments(parser, file_help="YAML bundle with the Migration, connections, Secrets")
    parser.add_argument("--no-progress", action="store_true", help="no live progress display (logs, CI)")
    parser.add_argument(
        "--repair",
        action="store_true",
        help="key ranges the validation finds differing are copied again from the source and "
        "validated again (as spec.validation.repair)",
    )
    parser.add_argument(
        "--report",
        metavar="FILE",
        help="write the run report there (FILE.md: Markdown; otherwise JSON), as the operator keeps it "
        "in the cluster; offline mode only",
    )
    parser.set_defaults(func=run_migration)


def run_migration(args: argparse.Namespace) -> int:
    console = Console(stderr=False)
    try:
        bundle = load_bundle(args.file, secrets_from_env=args.secrets_from_env)
        name, spec = bundle.migration(args.migration)
        spec, _ = effective_spec(spec, bundle.governance().defaults, bundle.governance().policy)
        prepared = prepare(bundle, name, spec)
    except (BundleError, SecretError, SelectionError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except Exception as exc:  # a database that cannot be reached or read: say why, without secrets
        print(f"error: cannot plan: {first_line(exc)}", file=sys.stderr)
        return EXIT_FAILED
    started = datetime.now(UTC)

    def report(ok: bool, message: str, results: UnitResults | None = None,
               validation: ValidationReport | None = None) -> None:  # fmt: skip
        if args.report:
            write_local_report(args.report, name, prepared, started=started, ok=ok, message=message,
                               results=results, validation=validation)  # fmt: skip

    decision = bundle.decide(spec, prepared.plan)
    if not decision.may_run:
        print(f"refused: {decision.message}", file=sys.stderr)
        report(False, f"refused: {decision.message}")
        return EXIT_REFUSED
    if spec.mode == MigrationMode.ONLINE:
        return run_online(console, bundle, name, prepared, progress=not args.no_progress)
    results: UnitResults | None = None
    try:
        # The same steps around the copy as the operator's (ferry.services.target_load).
        prepare_target(prepared.target, prepared.uid, prepared.planned, spec.copy_.truncate_target)
        live = LiveProgress(console, enabled=not args.no_progress and console.is_terminal)
        results = asyncio.run(copy_rows(prepared, bundle, live))
        if not results.ok:
            summary(console, name, results, None)
            report(False, f"{len(results.failed)} of {len(results.results)} copy units failed", results)
            return EXIT_FAILED
        complete_target(
            spec, prepared.source, prepared.target, prepared.uid, post_data=prepared.plan.post_data
        )
        validation = validate(prepared, bundle, repair=getattr(args, "repair", False))
    except Exception as exc:
        print(f"error: {first_line(exc)}", file=sys.stderr)
        report(False, first_line(exc), results)
        return EXIT_FAILED
    ok = summary(console, name, results, validation)
    report(ok, validation.summary, results, validation)
    return EXIT_OK if ok else EXIT_FAILED
