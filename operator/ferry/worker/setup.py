"""What every worker pod starts from, the copy's and the follower's: its env, its Migration and
the two connections, read with its own ServiceAccount token; and how SIGTERM ends it when no
batch is in flight.

The spec is the effective one (`status.effective`: the settings the operator planned with, the
Project's defaults included), so a worker copies and follows with what was approved.
"""

from __future__ import annotations

import os
import signal
import sys
from dataclasses import dataclass
from types import FrameType
from typing import Any

from kubernetes import client

from ferry.api.connection import DatabaseConnectionSpec
from ferry.api.kinds import DATABASE_CONNECTION, MIGRATION, Kind
from ferry.api.migration import MigrationSpec, MigrationStatus
from ferry.db.credentials import EnvSecretSource, resolve_credentials
from ferry.kube.client import load_api_client
from ferry.kube.retry import call_with_backoff
from ferry.kube.status import get_object
from ferry.observability.redaction import REGISTRY
from ferry.services.effective import apply_effective
from ferry.services.planning import Side

INPUTS_SECONDS = 300.0  # how long a starting pod waits for an unavailable API server
EXIT_SIGTERM = 143  # 128 + SIGTERM, what the shell and Kubernetes report for a terminated process


class StaleMigration(Exception):
    """The pod's Migration was deleted and another of the same name created."""


@dataclass(frozen=True)
class WorkerEnv:
    name: str
    namespace: str
    uid: str
    index: int
    count: int

    @classmethod
    def from_environ(cls) -> WorkerEnv:
        env = os.environ
        return cls(
            name=env["FERRY_MIGRATION_NAME"],
            namespace=env["FERRY_MIGRATION_NAMESPACE"],
            uid=env["FERRY_MIGRATION_UID"],
            index=int(env.get("JOB_COMPLETION_INDEX", "0")),
            count=int(env.get("FERRY_WORKER_COUNT", "1")),
        )


@dataclass(frozen=True)
class WorkerInputs:
    api: client.ApiClient
    secrets: EnvSecretSource
    spec: MigrationSpec
    source: Side
    target: Side
    # The hash of the Migration's plan as it is now (status.plan.hash); the Job carries the one
    # it was created for (FERRY_PLAN_HASH), and a worker refuses to write when they differ.
    plan_hash: str = ""


def load_inputs(env: WorkerEnv) -> WorkerInputs:
    """The Migration's effective spec and both sides, credentials from the pod's env."""
    api = load_api_client()
    secrets = EnvSecretSource()
    # Passwords, URLs, TLS keys and transform keys: masked in every status, event and log line
    # this process writes, whatever error text quotes them.
    REGISTRY.register_all(secrets.values())

    # Read with retries: a pod that starts while the API server is down waits for it, rather than
    # failing and spending one of the Job's retries (ferry.kube.retry).
    def read(kind: Kind, name: str) -> dict[str, Any]:
        return call_with_backoff(
            lambda: get_object(api, kind, env.namespace, name), what=f"reading {kind.kind} {name}",
            give_up_after=INPUTS_SECONDS,
        )  # fmt: skip

    migration = read(MIGRATION, env.name)
    found = (migration.get("metadata") or {}).get("uid")
    if found != env.uid:
        # A pod of an earlier Migration of the same name (deleted and created again while its Job
        # remained): it must not copy, or write the new Migration's status, under the old UID.
        raise StaleMigration(
            f"Migration {env.namespace}/{env.name} is now UID {found}, not {env.uid} this pod was made for; "
            "nothing was copied"
        )
    status = MigrationStatus.model_validate(migration.get("status") or {})
    effective = status.effective
    spec = apply_effective(MigrationSpec.model_validate(migration["spec"]), effective)

    def side(name: str) -> Side:
        conn = DatabaseConnectionSpec.model_validate(read(DATABASE_CONNECTION, name)["spec"])
        return Side(conn, resolve_credentials(conn, secrets))

    source, target = side(spec.source.connection_ref.name), side(spec.target.connection_ref.name)
    plan_hash = status.plan.hash or "" if status.plan else ""
    return WorkerInputs(api, secrets, spec, source, target, plan_hash)


def exit_on_sigterm() -> None:
    """SIGTERM ends the process at once (outside the loops that stop between batches)."""

    def handler(signum: int, frame: FrameType | None) -> None:
        sys.exit(EXIT_SIGTERM)  # an uncommitted batch rolls back with its connection

    signal.signal(signal.SIGTERM, handler)
