"""`ferry` and `kubectl-ferry`: one CLI for local mode, the cluster, the operator and the worker.

Each subcommand lives in its own module exposing `register(subparsers)`; the module sets
`func` on its parser, which returns the process exit code (0 ok, 1 failure, 2 refused).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

SUBCOMMAND_MODULES = (
    "ferry.cli.connection",
    "ferry.cli.plan",
    "ferry.cli.run",
    "ferry.cli.status",
    "ferry.cli.control",
    "ferry.cli.operator",
    "ferry.cli.worker",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="ferry", description="Move data between relational databases.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module_name in SUBCOMMAND_MODULES:
        module = importlib.import_module(module_name)
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    code: int = args.func(args)
    return code


if __name__ == "__main__":
    sys.exit(main())
