"""Helpers for Migration scenarios: connection objects for test databases, waiting on phases."""

from __future__ import annotations

import time
from typing import Any

from kubernetes import client

from ferry.api.kinds import GROUP, VERSION
from harness.databases import Database


def create_connection(api: client.ApiClient, namespace: str, name: str, db: Database) -> None:
    """A Secret with the database user's credentials and a DatabaseConnection that uses it."""
    client.CoreV1Api(api).create_namespaced_secret(
        namespace,
        {"metadata": {"name": f"{name}-creds"}, "stringData": {"username": db.user, "password": db.password}},
    )
    client.CustomObjectsApi(api).create_namespaced_custom_object(
        GROUP,
        VERSION,
        namespace,
        "databaseconnections",
        {
            "apiVersion": f"{GROUP}/{VERSION}",
            "kind": "DatabaseConnection",
            "metadata": {"name": name},
            "spec": {
                "engine": db.engine,
                "host": db.host,
                "port": db.port,
                "database": db.name,
                "credentialsSecretRef": {"name": f"{name}-creds"},
                "healthCheck": {"intervalSeconds": 5},
            },
        },
    )


def create_migration(api: client.ApiClient, namespace: str, name: str, spec: dict[str, Any]) -> None:
    client.CustomObjectsApi(api).create_namespaced_custom_object(
        GROUP,
        VERSION,
        namespace,
        "migrations",
        {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Migration", "metadata": {"name": name}, "spec": spec},
    )


def start_migration(
    api: client.ApiClient, namespace: str, name: str, source: Database, target: Database, spec: dict[str, Any]
) -> None:
    """Connections `src` and `dst` for the two databases, and a Migration between them."""
    create_connection(api, namespace, "src", source)
    create_connection(api, namespace, "dst", target)
    create_migration(api, namespace, name, spec)


def get_migration(api: client.ApiClient, namespace: str, name: str) -> dict[str, Any]:
    obj: dict[str, Any] = client.CustomObjectsApi(api).get_namespaced_custom_object(
        GROUP, VERSION, namespace, "migrations", name
    )
    return obj


def patch_migration_spec(api: client.ApiClient, namespace: str, name: str, spec: dict[str, Any]) -> None:
    client.CustomObjectsApi(api).patch_namespaced_custom_object(
        GROUP, VERSION, namespace, "migrations", name, {"spec": spec}
    )


def wait_for_phase(
    api: client.ApiClient,
    namespace: str,
    name: str,
    phases: set[str],
    timeout: float = 180,
    seen: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Poll until the phase is one of `phases`; fail early, with the status, on an unexpected end."""
    deadline = time.monotonic() + timeout
    status: dict[str, Any] = {}
    while time.monotonic() < deadline:
        obj = get_migration(api, namespace, name)
        status = obj.get("status") or {}
        if seen is not None:
            seen.append(status)
        if status.get("phase") in phases:
            return obj
        if status.get("phase") in {"Failed", "RolledBack", "Succeeded"} - phases:
            raise AssertionError(f"migration ended {status.get('phase')}: {status}")
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {phases}; last status: {status}")


def worker_jobs(api: client.ApiClient, namespace: str, name: str) -> list[Any]:
    """The Migration's copy (and follower) Jobs; its validation Jobs are `validation_jobs`."""
    selector = f"ferry.dev/migration={name},ferry.dev/role!=validator"
    return list(client.BatchV1Api(api).list_namespaced_job(namespace, label_selector=selector).items)


def validation_jobs(api: client.ApiClient, namespace: str, name: str) -> list[Any]:
    selector = f"ferry.dev/migration={name},ferry.dev/role=validator"
    return list(client.BatchV1Api(api).list_namespaced_job(namespace, label_selector=selector).items)


def condition(status: dict[str, Any], type_: str) -> dict[str, Any]:
    return next((c for c in status.get("conditions", []) if c["type"] == type_), {})


def approve_current_plan(api: client.ApiClient, namespace: str, name: str) -> dict[str, Any]:
    """Approve the plan in `status.plan` by committing its hash to `spec.approval.planHash` (the GitOps
    way, which approves where the Project sets no `policy.approvals` rule); returns the object seen."""
    obj = get_migration(api, namespace, name)
    plan_hash = ((obj.get("status") or {}).get("plan") or {}).get("hash")
    assert plan_hash, f"no plan to approve: {obj.get('status')}"
    patch_migration_spec(api, namespace, name, {"approval": {"planHash": plan_hash}})
    return obj


def migration_events(api: client.ApiClient, namespace: str, name: str) -> list[Any]:
    """The Events posted about Migration `name`, oldest first."""
    events = client.CoreV1Api(api).list_namespaced_event(
        namespace, field_selector=f"involvedObject.kind=Migration,involvedObject.name={name}"
    )
    return list(events.items)


def wait_for_event(api: client.ApiClient, namespace: str, name: str, reason: str, timeout: float = 30) -> Any:
    """The first Event with `reason` on Migration `name`; events are posted after the status write."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [e for e in migration_events(api, namespace, name) if e.reason == reason]
        if found:
            return found[0]
        time.sleep(0.3)
    seen = [(e.type, e.reason) for e in migration_events(api, namespace, name)]
    raise AssertionError(f"no {reason} Event on migration {name} after {timeout}s; events: {seen}")
