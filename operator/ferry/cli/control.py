"""`ferry suspend|resume mig/NAME`: steer a Migration by changing its spec.

These change only what a user owns, `spec.suspend`, with a merge patch; the operator sees the
change and acts (update/patch on migrations: the ferry-editor role). `ferry approve` is
ferry.cli.approve.

The argument helpers here (object reference, namespace, kubeconfig) are shared with
`ferry status`.
"""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException
from kubernetes.config import ConfigException

from ferry.api.kinds import GROUP, MIGRATION
from ferry.cli.cluster_api import api_message
from ferry.kube.client import current_namespace, load_api_client
from ferry.kube.status import patch_spec

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_REFUSED = 2

# What kubectl accepts for the kind, plus the short name.
_MIGRATION_PREFIXES = frozenset(
    {
        *MIGRATION.short_names,
        MIGRATION.singular,
        MIGRATION.plural,
        f"{MIGRATION.singular}.{GROUP}",
        f"{MIGRATION.plural}.{GROUP}",
    }
)
# An action gets (api, namespace, name) and returns the one line to print.
Action = Callable[[client.ApiClient, str, str], str]


class Refused(Exception):
    """The command will not do what was asked; the message says why (exit code 2)."""


def migration_name(ref: str) -> str:
    """`NAME`, `mig/NAME`, `migration/NAME`, `migrations/NAME` (or with `.ferry.dev`) → NAME."""
    if "/" not in ref:
        return ref
    kind, _, name = ref.partition("/")
    if kind.lower() not in _MIGRATION_PREFIXES or not name or "/" in name:
        raise Refused(f'"{ref}" is not a Migration reference; use NAME or mig/NAME')
    return name


def add_target_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("migration", metavar="mig/NAME", help="the Migration (NAME or mig/NAME)")
    parser.add_argument(
        "-n", "--namespace", help="namespace of the Migration (default: the kubeconfig's current namespace)"
    )
    parser.add_argument(
        "--kubeconfig", help="path of the kubeconfig (default: $KUBECONFIG or ~/.kube/config)"
    )


def add_optional_target_arguments(parser: argparse.ArgumentParser, what: str) -> None:
    """For commands with a cluster form (mig/NAME) and a local one (-f bundle.yaml)."""
    parser.add_argument("target", nargs="?", metavar="mig/NAME", help=f"cluster: {what} (NAME or mig/NAME)")
    parser.add_argument(
        "-n", "--namespace", help="cluster: the Migration's namespace (default: the kubeconfig's)"
    )
    parser.add_argument(
        "--kubeconfig", help="cluster: path of the kubeconfig (default: $KUBECONFIG or ~/.kube/config)"
    )


def one_place(args: argparse.Namespace) -> bool:
    """For commands with both forms: exactly one of mig/NAME and -f given (else says so)."""
    if bool(args.file) != bool(args.target):
        return True
    print("error: name the Migration as mig/NAME (cluster) or give -f bundle.yaml (local), not both",
          file=sys.stderr)  # fmt: skip
    return False


def target_namespace(args: argparse.Namespace) -> str:
    namespace: str = args.namespace or current_namespace(args.kubeconfig)
    return namespace


def display(namespace: str, name: str) -> str:
    return f"{MIGRATION.singular}.{GROUP}/{name} in namespace {namespace}"


def run_against_api(args: argparse.Namespace, action: Action) -> int:
    """Resolve the target, run `action(api, namespace, name)`, print its line; map errors to exit codes."""

    def act(api: client.ApiClient, namespace: str, name: str) -> int:
        print(action(api, namespace, name))
        return EXIT_OK

    return with_migration(args, act)


def with_migration(args: argparse.Namespace, body: Callable[[client.ApiClient, str, str], int]) -> int:
    """Run `body(api, namespace, name)` for the Migration named on the command line; print a
    refusal, an API error or a kubeconfig problem as one line and map it to an exit code."""
    try:
        name = migration_name(args.migration)
    except Refused as refused:
        print(f"error: {refused}", file=sys.stderr)
        return EXIT_REFUSED
    namespace = target_namespace(args)
    try:
        with load_api_client(args.kubeconfig) as api:
            return body(api, namespace, name)
    except Refused as refused:
        print(f"error: {refused}", file=sys.stderr)
        return EXIT_REFUSED
    except ApiException as error:
        print(f"error: {api_error_message(error, name, namespace)}", file=sys.stderr)
        return EXIT_FAILED
    except ConfigException as error:
        print(f"error: no usable kubeconfig: {error}", file=sys.stderr)
        return EXIT_FAILED


def api_error_message(error: ApiException, name: str, namespace: str) -> str:
    """The API server's own message when it sent one (it names the object and verb, never data)."""
    return api_message(error, not_found=f'Migration "{name}" not found in namespace "{namespace}"')


def _suspend_action(suspend: bool) -> Action:
    def action(api: client.ApiClient, namespace: str, name: str) -> str:
        patch_spec(api, MIGRATION, namespace, name, {"suspend": suspend})
        return f"{display(namespace, name)} {'suspended' if suspend else 'resumed'}"

    return action


def register(subparsers: Any) -> None:
    for command, suspend, text in (
        ("suspend", True, "stop a Migration's workers; it resumes from its checkpoints"),
        ("resume", False, "let a suspended Migration continue"),
    ):
        parser = subparsers.add_parser(command, help=text, description=text)
        add_target_arguments(parser)
        parser.set_defaults(func=functools.partial(run_against_api, action=_suspend_action(suspend)))
