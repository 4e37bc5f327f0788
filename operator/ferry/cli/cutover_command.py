"""`ferry cutover`: one command, two places an online Migration runs.

- In the cluster: `kubectl ferry cutover mig/NAME [-n NS] [--approve]` sets
  `spec.cutover.requested` (ferry.cli.cutover_cluster); the operator does the rest.
- Locally: `ferry cutover -f bundle.yaml [--migration NAME] [--timeout S]` asks the `ferry run`
  that follows it, through the target, and waits for the outcome (ferry.cli.cutover).

Each form's module is imported only when it runs: the local one needs no Kubernetes client, the
cluster one no database driver.
"""

from __future__ import annotations

import argparse
from typing import Any

from ferry.cli.bundle import add_bundle_arguments
from ferry.cli.control import add_optional_target_arguments, one_place
from ferry.cli.exits import EXIT_REFUSED


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "cutover",
        help="switch an online Migration over to its target (mig/NAME in the cluster, -f locally)",
        description="Cluster: set spec.cutover.requested on an online Migration (mig/NAME). Local: ask the "
        "`ferry run` following a bundle's Migration to cut over (-f bundle.yaml), and wait for the outcome.",
    )
    add_optional_target_arguments(parser, "the Migration")
    parser.add_argument(
        "--approve",
        action="store_true",
        help="cluster: also set spec.approval.cutover (a Project with cutoverRequiresApproval waits for it)",
    )
    add_bundle_arguments(parser, file_help="local: the YAML bundle `ferry run` runs", required=False)
    parser.add_argument(
        "--timeout", type=float, default=600.0, metavar="S",
        help="local: seconds to wait for the outcome (default 600)",
    )  # fmt: skip
    parser.set_defaults(func=dispatch)


def dispatch(args: argparse.Namespace) -> int:
    if not one_place(args):
        return EXIT_REFUSED
    if args.file:
        from ferry.cli.cutover import cutover

        return cutover(args)
    from ferry.cli.cutover_cluster import cutover_in_cluster

    args.migration = args.target
    return cutover_in_cluster(args)
