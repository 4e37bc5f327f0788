"""Pure builders of the per-namespace identity of worker pods: ServiceAccount, Role, RoleBinding.

The worker reads its Migration and the two DatabaseConnections, and writes progress into
the Migration's status — nothing else. In particular it has no access to Secrets: the Job
hands it each credential it needs as a secretKeyRef env var (see worker_job), so a worker
pod cannot read Secrets other Migrations use.

The operator creates these objects in every namespace that runs a Migration. Kubernetes
lets it create a Role only with permissions it holds itself (escalation prevention), so the
operator's ClusterRole includes WORKER_RULES; tests/unit/test_manifests.py checks that.
"""

from __future__ import annotations

from typing import Any, Final

from ferry.api.kinds import DATABASE_CONNECTION, GROUP, MIGRATION

WORKER_NAME: Final = "ferry-worker"
_LABELS: Final = {"app.kubernetes.io/name": WORKER_NAME, "app.kubernetes.io/managed-by": "ferry"}

WORKER_RULES: Final[tuple[dict[str, Any], ...]] = (
    # The worker reads its Migration (tables, copy settings, transforms) and the two
    # DatabaseConnections (host, port, engine, TLS mode) when it starts.
    {"apiGroups": [GROUP], "resources": [MIGRATION.plural, DATABASE_CONNECTION.plural], "verbs": ["get"]},
    # The worker mirrors progress (rows, speed, per-table state) into Migration status with a
    # merge patch of the fields it owns; get is what a client reads before patching.
    {"apiGroups": [GROUP], "resources": [f"{MIGRATION.plural}/status"], "verbs": ["get", "patch"]},
)


def build_worker_service_account(namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": {"name": WORKER_NAME, "namespace": namespace, "labels": dict(_LABELS)},
    }


def build_worker_role(namespace: str) -> dict[str, Any]:
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "Role",
        "metadata": {"name": WORKER_NAME, "namespace": namespace, "labels": dict(_LABELS)},
        "rules": [{k: list(v) for k, v in rule.items()} for rule in WORKER_RULES],
    }


def build_worker_role_binding(namespace: str) -> dict[str, Any]:
    """Binds the Role to the ferry-worker ServiceAccount only.

    A Migration that sets spec.job.serviceAccountName brings its own identity; its owner binds
    that ServiceAccount to the ferry-worker Role (docs/rbac.md), so one Migration can never
    widen what another Migration's pods may do.
    """
    return {
        "apiVersion": "rbac.authorization.k8s.io/v1",
        "kind": "RoleBinding",
        "metadata": {"name": WORKER_NAME, "namespace": namespace, "labels": dict(_LABELS)},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": WORKER_NAME},
        "subjects": [{"kind": "ServiceAccount", "name": WORKER_NAME, "namespace": namespace}],
    }


def build_worker_rbac(namespace: str) -> list[dict[str, Any]]:
    """The three objects in the order they must be applied."""
    return [
        build_worker_service_account(namespace),
        build_worker_role(namespace),
        build_worker_role_binding(namespace),
    ]
