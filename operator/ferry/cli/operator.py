"""`ferry operator`: run the controllers against the current kubeconfig or in-cluster config."""

from __future__ import annotations

import argparse
import asyncio
import importlib
from typing import Any

from ferry.controllers import CONTROLLER_MODULES


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser("operator", help="run the Ferry operator")
    scope = parser.add_mutually_exclusive_group()
    scope.add_argument("--all-namespaces", "-A", action="store_true", help="watch every namespace (default)")
    scope.add_argument("--namespace", "-n", action="append", default=[], help="watch only these namespaces")
    parser.add_argument("--metrics-port", type=int, default=8080, help="Prometheus metrics port (0: off)")
    parser.add_argument("--liveness-port", type=int, default=0, help="kopf liveness endpoint port (0: off)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import kopf

    from ferry.observability.logging import configure_logging
    from ferry.observability.metrics import serve_metrics

    configure_logging()
    if args.metrics_port:
        serve_metrics(args.metrics_port)
    for module in CONTROLLER_MODULES:
        importlib.import_module(module)
    liveness = f"http://0.0.0.0:{args.liveness_port}/healthz" if args.liveness_port else None
    asyncio.run(
        kopf.operator(
            clusterwide=not args.namespace,
            namespaces=args.namespace,
            liveness_endpoint=liveness,
            standalone=True,
        )
    )
    return 0
