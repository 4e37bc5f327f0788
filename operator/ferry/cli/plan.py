"""`ferry plan -f bundle.yaml`: what the Migration would do to the target schema, before any row moves.

Reads the bundle (Secrets, DatabaseConnections, Migration, optionally a Project), discovers
both databases, and prints the plan — schema DDL and the data operations of the copy and
rollback settings — as a table coloured by risk (readable in 80 columns), `--output json`, or
`--sql`: the exact DDL in the order Ferry applies it, as a script psql can run, each statement
preceded by a comment with its risk and reason (ferry.schema.plan_script), and nothing else on
stdout. Whether it may run is
decided by the same gate as the operator's (ferry.services.gate). Exit codes: 0 the plan can
run, 1 the plan has errors (or a database cannot be read), 2 refused: it needs approval
(destructive operations without `spec.schema.allowDestructive` or a matching
`spec.approval.planHash`), the policy forbids it, or the target is read-only.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table as RichTable

from ferry.api.migration import MigrationSpec
from ferry.cdc.lifecycle import CdcCaptureOps
from ferry.cli.bundle import Bundle, BundleError, add_bundle_arguments, load_bundle
from ferry.db.credentials import SecretError
from ferry.db.dialects import family
from ferry.observability.errors import first_line
from ferry.schema import Plan, SelectionError
from ferry.schema.plan_script import plan_script
from ferry.services.capture_ops import plan_with_capture
from ferry.services.effective import effective_spec
from ferry.services.gate import Decision, Verdict

RISK_STYLE = {"safe": "green", "lossy": "yellow", "destructive": "bold red"}
EXIT_OK, EXIT_ERROR, EXIT_REFUSED = 0, 1, 2


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "plan", help="show the schema changes and their risk, without changing anything"
    )
    add_bundle_arguments(parser, file_help="YAML bundle with the Migration, connections, Secrets")
    parser.add_argument("--output", choices=("table", "json"), default="table")
    parser.add_argument(
        "--sql", action="store_true",
        help="print the plan as the SQL script Ferry would run (comments name each risk and reason)",
    )  # fmt: skip
    parser.set_defaults(func=run_plan)


def make_plan(bundle: Bundle, spec: MigrationSpec) -> Plan:
    """Discover both sides and plan (online mode: with what keeps the source from being followed
    as errors); raises BundleError, SecretError, SelectionError, SQLAlchemy errors."""
    source, target = bundle.sides(spec)
    return plan_with_capture(spec, source, target, CdcCaptureOps()).plan


def target_dialect(bundle: Bundle, spec: MigrationSpec) -> str:
    return str(family(bundle.connection(spec.target.connection_ref.name).engine))


def exit_code(decision: Decision) -> int:
    if decision.may_run:
        return EXIT_OK
    return EXIT_ERROR if decision.verdict == Verdict.PLAN_ERRORS else EXIT_REFUSED


def run_plan(args: argparse.Namespace) -> int:
    try:
        bundle = load_bundle(args.file, secrets_from_env=args.secrets_from_env)
        name, spec = bundle.migration(args.migration)
        spec, _ = effective_spec(spec, bundle.governance().defaults)
        plan = make_plan(bundle, spec)
    except (BundleError, SecretError, SelectionError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_ERROR
    except Exception as exc:  # a database that cannot be reached or read: say why, without secrets
        print(f"error: cannot plan: {first_line(exc)}", file=sys.stderr)
        return EXIT_ERROR
    decision = bundle.decide(spec, plan)
    code = exit_code(decision)
    if args.sql:  # the script alone on stdout, so `ferry plan --sql > plan.sql` is the script
        print(plan_script(plan, target_dialect(bundle, spec), name), end="")
        if not decision.may_run:
            print(f"ferry plan: {decision.message or decision.verdict}", file=sys.stderr)
    elif args.output == "json":
        verdict = {"decision": str(decision.verdict), "exitCode": code}
        print(json.dumps({"migration": name, **plan.to_dict(), **verdict}, indent=2, ensure_ascii=False))
    else:
        print_plan(Console(), name, plan, decision)
    return code


def print_plan(console: Console, name: str, plan: Plan, decision: Decision) -> None:
    """One row per operation, under a heading per phase: the kind above the table name in one
    column wide enough for both, detail and reason in one column that wraps, so the table stays
    whole in an 80-column terminal."""
    table = RichTable(title=f"Migration {name}: schema plan (mode {plan.mode})", title_justify="left")
    # Widths set here: rich's own shrinking crops the last column when a terminal is narrow.
    number = len(str(len(plan.operations)))
    risk_width = max(len(r) for r in RISK_STYLE)
    room = console.width - 13 - number - risk_width  # 5 rules and 2 spaces of padding per column
    longest = max((len(s) for op in plan.operations for s in (op.kind, op.qualified_table)), default=9)
    names = max(min(longest, room - 22), 17)  # detail keeps at least 22 columns
    table.add_column("#", justify="right", width=number)
    table.add_column("operation / table", overflow="fold", width=names)
    table.add_column("risk", width=risk_width)
    table.add_column("detail / reason", overflow="fold", width=max(room - names, 10))
    phase = None
    for i, op in enumerate(plan.operations, 1):
        if op.phase != phase:
            if phase is not None:
                table.add_section()
            phase = op.phase
            table.add_row("", f"[bold]{phase.replace('_', '-')}[/]", "", "")
        what = [escape(op.detail)] if op.detail else []
        what += [f"[dim]{escape(op.reason)}[/]"] if op.reason else []
        what += [f"{op.affected_rows:,} rows"] if op.affected_rows else []
        risk = f"[{RISK_STYLE[op.risk]}]{op.risk}[/]"
        table.add_row(str(i), f"{op.kind}\n{escape(op.qualified_table)}", risk, "\n".join(what))
    if plan.operations:
        console.print(table)
    else:
        console.print(f"Migration {name}: no schema change needed (mode {plan.mode}).")
    counts = plan.counts()
    console.print(
        "  ".join(f"[{RISK_STYLE[risk]}]{risk}: {n}[/]" for risk, n in counts.items())
        + f"   plan hash {plan.hash}"
    )
    for warning in plan.warnings:
        console.print(f"[yellow]warning:[/] {warning}", highlight=False)
    for error in plan.errors:
        console.print(f"[bold red]error:[/] {error}", highlight=False)
    if not decision.may_run and decision.verdict != Verdict.PLAN_ERRORS:
        console.print(f"[bold red]refused:[/] {decision.message}", highlight=False)
