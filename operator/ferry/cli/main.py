"""`ferry` and `kubectl-ferry`: one CLI for local mode, the cluster, the operator and the worker.

Each subcommand lives in its own module exposing `register(subparsers)`; the module sets
`func` on its parser, which returns the process exit code (0 ok, 1 failure, 2 refused).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import Any

from ferry import __version__

# The module that registers each subcommand. Only the chosen one is imported: `ferry run`, for
# one, starts without loading the Kubernetes client that the cluster commands need.
SUBCOMMANDS = {
    "connection": "ferry.cli.connection",
    "plan": "ferry.cli.plan",
    "run": "ferry.cli.run",
    "cutover": "ferry.cli.cutover_command",
    "status": "ferry.cli.status",
    "approve": "ferry.cli.approve",
    "report": "ferry.cli.report",
    "access": "ferry.cli.access",
    "usage": "ferry.cli.usage",
    "access-review": "ferry.cli.access_review",
    "diff": "ferry.cli.diff",
    "compliance": "ferry.cli.compliance",
    "suspend": "ferry.cli.control",
    "resume": "ferry.cli.control",
    "repair": "ferry.cli.repair",
    "operator": "ferry.cli.operator",
    "worker": "ferry.cli.worker",
}

# `ferry --help` lists the subcommands from these lines and imports none of their modules: between
# them they load SQLAlchemy, sqlglot, the schema code and the Kubernetes client, nine tenths of a
# 1.5 s `--help` (`python -X importtime`). Each module's own parser carries the same line
# (tests/unit/cli/test_main.py holds them equal).
SUMMARIES = {
    "connection": "work with DatabaseConnections in local mode",
    "plan": "show the schema changes and their risk, without changing anything",
    "run": "run a Migration from a YAML bundle without a cluster (resumable)",
    "cutover": "switch an online Migration over to its target (mig/NAME in the cluster, -f locally)",
    "status": "show a Migration's phase, conditions, plan and progress",
    "approve": "approve the current plan of a Migration, as yourself",
    "report": "the report of a Migration's last run (kept after the Migration is deleted)",
    "access": "access review: who can read, change or approve Migrations, read credentials, in a namespace",
    "suspend": "stop a Migration's workers; it resumes from its checkpoints",
    "resume": "let a suspended Migration continue",
    "repair": "copy again the key ranges a failed validation found differing, then validate again",
    "usage": "a Project's usage: this month, the previous one, all runs",
    "access-review": "who can create, edit, approve, delete Migrations and connections and read their "
    "Secrets, over a Project",
    "diff": "the databases' schemas now against those the Migration's plan was made from",
    "compliance": "a Project's Migrations from their run reports: approvers, personal data, validation, "
    "DDL risk",
    "operator": "run the Ferry operator",
    "worker": "copy this pod's share of a Migration, or follow its changes (run by the operator's Jobs)",
}


def _root_parser() -> tuple[argparse.ArgumentParser, Any]:
    parser = argparse.ArgumentParser(prog="ferry", description="Move data between relational databases.")
    parser.add_argument("--version", action="version", version=f"ferry {__version__}")
    return parser, parser.add_subparsers(dest="command", required=True, metavar="COMMAND")


def overview_parser() -> argparse.ArgumentParser:
    """The subcommands by name and summary only: `ferry --help` and usage errors, fast."""
    parser, subparsers = _root_parser()
    for command, summary in SUMMARIES.items():
        subparsers.add_parser(command, help=summary, add_help=False)
    return parser


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole CLI, or only `command`'s part of it when that is known."""
    parser, subparsers = _root_parser()
    modules = [SUBCOMMANDS[command]] if command in SUBCOMMANDS else list(dict.fromkeys(SUBCOMMANDS.values()))
    for module_name in modules:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    if arguments and arguments[0] in SUBCOMMANDS:
        parser = build_parser(arguments[0])
    else:
        # No subcommand first: `--help`, or a usage error that argparse reports and exits with.
        overview_parser().parse_args(arguments)
        parser = build_parser()
    args = parser.parse_args(arguments)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
