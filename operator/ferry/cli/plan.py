"""`ferry plan -f bundle.yaml`: what the Migration would do to the target schema, before any row moves.

(`kubectl ferry plan mig/NAME` shows the plan the operator made instead: ferry.cli.plan_cluster.)

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

from ferry.api.migration import MigrationSpec
from ferry.cdc.lifecycle import CdcCaptureOps
from ferry.cli.bundle import Bundle, BundleError, add_bundle_arguments, load_bundle
from ferry.cli.control import add_optional_target_arguments, one_place
from ferry.cli.plan_render import print_plan
from ferry.db.credentials import SecretError
from ferry.db.dialects import family
from ferry.observability.errors import first_line
from ferry.schema import Plan, SelectionError
from ferry.schema.plan_script import plan_script
from ferry.services.capture_ops import plan_with_capture
from ferry.services.effective import effective_spec
from ferry.services.gate import Decision, Verdict

EXIT_OK, EXIT_ERROR, EXIT_REFUSED = 0, 1, 2


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "plan", help="show the schema changes and their risk, without changing anything"
    )
    add_optional_target_arguments(parser, "the Migration whose plan the operator made")
    add_bundle_arguments(
        parser, file_help="local: YAML bundle with the Migration, connections, Secrets", required=False
    )
    parser.add_argument("--output", choices=("table", "json"), default="table")
    parser.add_argument(
        "--sql", action="store_true",
        help="print the plan as the SQL script Ferry would run (comments name each risk and reason)",
    )  # fmt: skip
    parser.set_defaults(func=dispatch)


def dispatch(args: argparse.Namespace) -> int:
    if not one_place(args):
        return EXIT_ERROR
    if args.target:
        from ferry.cli.plan_cluster import show_cluster_plan  # the Kubernetes client only when needed

        return show_cluster_plan(args)
    return run_plan(args)


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
        spec, _ = effective_spec(spec, bundle.governance().defaults, bundle.governance().policy)
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
        refused = None if decision.may_run or decision.verdict == Verdict.PLAN_ERRORS else decision.message
        print_plan(Console(), name, plan.to_dict(), refused)
    return code
