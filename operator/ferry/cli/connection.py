"""`ferry connection test -f conn.yaml`: the operator's probe, without a cluster.

Reads the same YAML a user would `kubectl apply` (Secrets and DatabaseConnections), resolves
the credentials from the file (or, with --secrets-from-env, from FERRY_SECRET_* variables)
and prints what the `Ready` condition would say. Exit code 0 when the database answers.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from ferry.api import conditions as c
from ferry.cli.bundle import BundleError, add_bundle_arguments, load_bundle
from ferry.db.credentials import SecretError, resolve_credentials
from ferry.db.errors import classify
from ferry.db.probe import ProbeResult, probe
from ferry.observability.redaction import redact, register_secret


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "connection", help="work with DatabaseConnections in local mode"
    )
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    test = actions.add_parser(
        "test", help="probe a DatabaseConnection from a YAML file, as the operator would"
    )
    add_bundle_arguments(
        test, file_help="YAML with the DatabaseConnection and its Secrets", name_option="--name"
    )
    test.add_argument("--timeout", type=float, help="seconds per network step (default: spec.healthCheck)")
    test.set_defaults(func=run_test)


def run_test(args: argparse.Namespace) -> int:
    try:
        bundle = load_bundle(args.file, secrets_from_env=args.secrets_from_env)
        name = args.name or _only_connection(list(bundle.connections))
        spec = bundle.connection(name)
    except BundleError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    timeout = args.timeout or float(spec.health_check.timeout_seconds)
    try:
        credentials = resolve_credentials(spec, bundle.secrets)
    except SecretError as exc:
        found = classify(exc, spec, spec.host or spec.database, timeout)
        result = ProbeResult(False, None, 0.0, found.reason, found.message)
    else:
        for value in credentials.secret_values():
            register_secret(value)
        result = probe(spec, credentials, timeout)
    _print_result(name, spec.engine.value, result)
    return 0 if result.ok else 1


def _only_connection(names: list[str]) -> str:
    if len(names) != 1:
        raise BundleError(f"the file holds {len(names)} DatabaseConnections; name one with --name")
    return names[0]


def _print_result(name: str, engine: str, result: ProbeResult) -> None:
    status = "True" if result.ok else "False"
    print(f"DatabaseConnection {name} ({engine}): Ready={status} reason={result.reason}")
    if result.ok:
        print(f"  serverVersion: {result.server_version}")
        print(f"  latencyMs: {result.latency_ms:g}")
    print(f"  {redact(result.message)}")
    if result.reason == c.INVALID_SPEC:
        print("  (this needs a change to the DatabaseConnection or its URL; retrying will not help)")
