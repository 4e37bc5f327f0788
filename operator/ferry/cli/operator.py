"""`ferry operator`: run the controllers against the current kubeconfig or in-cluster config.

With `--leader-elect`, several replicas may run and only the holder of a coordination.k8s.io
Lease acts (`ferry.kube.leader_election`). A standby starts nothing of kopf — no handlers, no
watches — and serves only metrics and `/healthz`; on winning the lease it hands the liveness
port to kopf and starts it. On losing the lease kopf is stopped and the process exits 1, so the
pod restarts as a standby.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import threading
from collections.abc import Mapping
from typing import Any

from ferry.controllers import CONTROLLER_MODULES
from ferry.kube.election_settings import (
    DEFAULT_LEASE_NAME,
    ElectionSettings,
    candidate_identity,
    election_namespace,
)


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser("operator", help="run the Ferry operator")
    scope = parser.add_mutually_exclusive_group()
    scope.add_argument("--all-namespaces", "-A", action="store_true", help="watch every namespace (default)")
    scope.add_argument("--namespace", "-n", action="append", default=[], help="watch only these namespaces")
    parser.add_argument("--metrics-port", type=int, default=8080, help="Prometheus metrics port (0: off)")
    parser.add_argument("--liveness-port", type=int, default=0, help="/healthz port (0: off)")
    election = parser.add_argument_group("leader election (several replicas, one acts)")
    election.add_argument(
        "--leader-elect",
        action="store_true",
        help="act only while holding a coordination.k8s.io Lease; other replicas wait as standbys",
    )
    election.add_argument(
        "--leader-election-namespace",
        default=None,
        help="namespace of the Lease (default: $POD_NAMESPACE, else ferry-system)",
    )
    election.add_argument(
        "--leader-election-id",
        default=DEFAULT_LEASE_NAME,
        help=f"name of the Lease (default: {DEFAULT_LEASE_NAME})",
    )
    parser.set_defaults(func=run)


def election_settings(args: argparse.Namespace, environ: Mapping[str, str]) -> ElectionSettings:
    return ElectionSettings(
        namespace=election_namespace(args.leader_election_namespace, environ),
        name=args.leader_election_id,
        identity=candidate_identity(environ),
    )


def run(args: argparse.Namespace) -> int:
    from ferry.observability.logging import configure_logging
    from ferry.observability.metrics import record_leadership, serve_metrics

    configure_logging()
    if args.metrics_port:
        serve_metrics(args.metrics_port)
    # Before the election: an image that cannot load its handlers fails without taking the lease.
    for module in CONTROLLER_MODULES:
        importlib.import_module(module)
    if not args.leader_elect:
        record_leadership(True)
        asyncio.run(_operate(args, stop_flag=None))
        return 0
    return _run_elected(args)


def _run_elected(args: argparse.Namespace) -> int:
    from ferry.kube.client import load_api_client
    from ferry.kube.leader_election import LeaseCandidate, build_lock
    from ferry.observability.health import StandbyHealth
    from ferry.observability.logging import get_logger
    from ferry.observability.metrics import record_leadership

    settings = election_settings(args, os.environ)
    health = StandbyHealth(args.liveness_port).start() if args.liveness_port else None
    record_leadership(False)
    stop_flag = threading.Event()
    # Its own client, one attempt per call: the election retries on its own schedule.
    lock = build_lock(settings, load_api_client(retries=0))
    candidate = LeaseCandidate(settings, lock, stop_flag, on_leading=record_leadership).start()
    if not candidate.wait_for_leadership():
        return 1
    if health is not None:
        health.stop()  # kopf serves /healthz on this port from now on
    asyncio.run(_operate(args, stop_flag))
    # kopf stopped: the lease was lost (exit 1, restart as a standby), or SIGTERM (exit 0; the
    # lease expires and a standby takes it).
    if candidate.lost.is_set():
        get_logger(__name__).error("operator stopped after losing the lease; exiting to restart as a standby")
        return 1
    return 0


async def _operate(args: argparse.Namespace, stop_flag: threading.Event | None) -> None:
    import kopf

    liveness = f"http://0.0.0.0:{args.liveness_port}/healthz" if args.liveness_port else None
    try:
        await kopf.operator(
            clusterwide=not args.namespace,
            namespaces=args.namespace,
            liveness_endpoint=liveness,
            standalone=True,
            stop_flag=stop_flag,
        )
    finally:
        # kopf waits for a threading.Event in an executor thread; asyncio.run joins that thread
        # on the way out, so an unset flag (a stop by SIGTERM) would hang the exit forever.
        if stop_flag is not None:
            stop_flag.set()
