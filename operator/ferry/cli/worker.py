"""`ferry worker`: the entry point of a migration Job's pods (configured through env vars)."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "worker", help="copy this pod's share of a Migration (run by the operator's Jobs)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from ferry.worker.main import main

    return main()
