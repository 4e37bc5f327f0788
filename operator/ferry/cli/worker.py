"""`ferry worker`: the entry point of a migration Job's pods (configured through env vars).

`ferry worker` copies this pod's share of the work units; `ferry worker --follow` is the follower
of an online Migration (ferry.worker.follow), one pod that applies the source's changes until
the cutover; `ferry worker --validate` compares this pod's share of the key ranges after the copy
(ferry.worker.validate).
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
    parser.add_argument(
        "--validate", action="store_true", help="compare this pod's share of the key ranges (validation Job)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.follow:
        from ferry.worker.follow import main as follow

        return follow()
    if args.validate:
        from ferry.worker.validate import main as validate

        return validate()
    from ferry.worker.main import main

    return main()
