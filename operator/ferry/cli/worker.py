"""`ferry worker`: the entry point of a migration Job's pods (configured through env vars).

`ferry worker` copies this pod's share of the work units; `ferry worker --follow` is the follower
of an online Migration (ferry.worker.follow), one pod that applies the source's changes until
the cutover.
"""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "worker",
        help="copy this pod's share of a Migration, or follow its changes (run by the operator's Jobs)",
    )
    parser.add_argument(
        "--follow", action="store_true", help="apply the source's changes until the cutover (online mode)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.follow:
        from ferry.worker.follow import main as follow

        return follow()
    from ferry.worker.main import main

    return main()
