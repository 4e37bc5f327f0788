"""Pure builders of the identity of one Migration's worker pods: ServiceAccount, Role, RoleBinding.

The worker reads its Migration and the two DatabaseConnections, and writes progress into
the Migration's status — nothing else. In particular it has no access to Secrets: the Job
hands it each credential it needs as a secretKeyRef env var (see worker_job), so a worker
pod cannot read Secrets other Migrations use.

The identity is per Migration (`ferry-worker-<migration>`) and every rule names its objects
(`resourceNames`): a worker's token can read only its own Migration and its two connections,
and patch only its own Migration's status — never mark another Migration Succeeded. The three
objects are owned by the Migration (garbage-collected with it; `blockOwnerDeletion` off, so the
operator needs no `migrations/finalizers` permission where OwnerReferencesPermissionEnforcement
is on).

Kubernetes lets the operator create a Role only with permissions it holds itself (escalation
prevention), so the operator's ClusterRole includes WORKER_RULES; tests/unit/test_manifests.py
checks that.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from ferry.api.kinds import API_VERSION, DATABASE_CONNECTION, GROUP, MIGRATION

WORKER_PREFIX: Final = "ferry-worker-"
_LABELS: Final = {"app.kubernetes.io/name": "ferry-worker", "app.kubernetes.io/managed-by": "ferry"}

# The rules without their resourceNames: what the operator must hold to grant them.
WORKER_RULES: Final[tuple[dict[str, Any], ...]] = (
    # The worker reads its Migration (tables, copy settings, transforms) and the two
    # DatabaseConnections (host, port, engine, TLS mode) when it starts.
    {"apiGroups": [GROUP], "resources": [MIGRATION.plural], "verbs": ["get"]},
    {"apiGroups": [GROUP], "resources": [DATABASE_CONNECTION.plural], "verbs": ["get"]},
    # The worker mirrors progress (rows, speed, per-table state) into Migration status with a
    # merge patch of the fields it owns; get is what a client reads before patching.
    {"apiGroups": [GROUP], "resources": [f"{MIGRATION.plural}/status"], "verbs": ["get", "patch"]},
)


@dataclass(frozen=True)
class WorkerIdentity:
    """Whose pods these are: the Migration, its two connections, and an optional ServiceAccount
    of the user's (`spec.job.serviceAccountName`) that gets the same rights on this Migration."""

    namespace: str
    migration: str
    migration_uid: str
    connections: tuple[str, str]
    user_service_account: str | None = None

    @property
    def name(self) -> str:
        return worker_name(self.migration)


def worker_name(migration: str) -> str:
    """The ServiceAccount, Role and RoleBinding of a Migration's workers (at most 253 characters,
    as a Migration's name is)."""
    return (WORKER_PREFIX + migration)[:253]


def _metadata(identity: WorkerIdentity) -> dict[str, Any]:
    owner = {"apiVersion": API_VERSION, "kind": MIGRATION.kind, "name": identity.migration,
             "uid": identity.migration_uid, "blockOwnerDeletion": False}  # fmt: skip
    return {"name": identity.name, "namespace": identity.namespace, "labels": dict(_LABELS),
            "ownerReferences": [owner]}  # fmt: skip


def build_worker_service_account(identity: WorkerIdentity) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": _metadata(identity)}


def build_worker_role(identity: WorkerIdentity) -> dict[str, Any]:
    names = {
        MIGRATION.plural: [identity.migration],
        DATABASE_CONNECTION.plural: sorted(set(identity.connections)),
        f"{MIGRATION.plural}/status": [identity.migration],
    }
    rules = [{**{k: list(v) for k, v in rule.items()}, "resourceNames": names[rule["resources"][0]]}
             for rule in WORKER_RULES]  # fmt: skip
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": _metadata(identity),
            "rules": rules}  # fmt: skip


def build_worker_role_binding(identity: WorkerIdentity) -> dict[str, Any]:
    """Binds the Role to the Migration's own worker ServiceAccount, and to the user's one when the
    Migration names it (that account gains rights on this Migration only)."""
    accounts = [identity.name]
    if identity.user_service_account and identity.user_service_account != identity.name:
        accounts.append(identity.user_service_account)
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": _metadata(identity),
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": identity.name},
        "subjects": [
            {"kind": "ServiceAccount", "name": a, "namespace": identity.namespace} for a in accounts
        ],
    }


def build_worker_rbac(identity: WorkerIdentity) -> list[dict[str, Any]]:
    """The three objects in the order they must be applied."""
    return [
        build_worker_service_account(identity),
        build_worker_role(identity),
        build_worker_role_binding(identity),
    ]
