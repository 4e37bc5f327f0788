"""`ferry` and `kubectl-ferry`: one CLI for local mode, the cluster, the operator and the worker.

Each subcommand lives in its own module exposing `register(subparsers)`; the module sets
`func` on its parser, which returns the process exit code (0 ok, 1 failure, 2 refused).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

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
    "access-review": "ferry.cli.access_review",
    "diff": "ferry.cli.diff",
    "compliance": "ferry.cli.compliance",
    "suspend": "ferry.cli.control",
    "resume": "ferry.cli.control",
    "operator": "ferry.cli.operator",
    "worker": "ferry.cli.worker",
}


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The whole CLI, or only `command`'s part of it when that is known."""
    parser = argparse.ArgumentParser(prog="ferry", description="Move data between relational databases.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    modules = [SUBCOMMANDS[command]] if command in SUBCOMMANDS else list(dict.fromkeys(SUBCOMMANDS.values()))
    for module_name in modules:
        importlib.import_module(module_name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser(arguments[0] if arguments else None)
    args = parser.parse_args(arguments)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
