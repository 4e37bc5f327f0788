"""Databases that hang do not stall the operator: another DatabaseConnection becomes Ready while
their probes hang, and repeated hanging probes leak no thread of the operator process.

The hanging databases are a real PostgreSQL behind harness.stall_proxy: the login succeeds, the
first query is never answered. There are more of them than the event loop's default executor
has threads on this machine, where the probes used to run (and stay, for ever).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kubernetes import client

from e2e.migration_helpers import create_connection
from ferry.api.kinds import GROUP, VERSION
from harness.databases import Database
from harness.kube import wait_for
from harness.operator_process import OperatorProcess
from harness.stall_proxy import StallProxy

HANGING = 8


def _threads(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Threads:"):
            return int(line.split()[1])
    raise AssertionError("no thread count")


def _status(api: client.ApiClient, namespace: str, name: str) -> dict[str, Any]:
    obj = client.CustomObjectsApi(api).get_namespaced_custom_object(
        GROUP, VERSION, namespace, "databaseconnections", name
    )
    return dict(obj.get("status") or {})


def _ready(status: dict[str, Any]) -> dict[str, Any]:
    return next((c for c in status.get("conditions", []) if c["type"] == "Ready"), {})


def test_hanging_databases_neither_leak_threads_nor_hold_up_another_connection(
    kube_api: client.ApiClient, namespace: str, operator: OperatorProcess, pg_db: Database
) -> None:
    assert operator.process is not None
    proxy = StallProxy(pg_db.host, pg_db.port, hang_after_login=True).start()
    try:
        client.CoreV1Api(kube_api).create_namespaced_secret(
            namespace,
            {
                "metadata": {"name": "hang-creds"},
                "stringData": {"username": pg_db.user, "password": pg_db.password},
            },
        )
        for i in range(HANGING):
            spec = {
                "engine": "postgresql", "host": "127.0.0.1", "port": proxy.port, "database": pg_db.name,
                "credentialsSecretRef": {"name": "hang-creds"},
                "healthCheck": {"intervalSeconds": 5, "timeoutSeconds": 1},
            }  # fmt: skip
            body = {"apiVersion": f"{GROUP}/{VERSION}", "kind": "DatabaseConnection"}
            client.CustomObjectsApi(kube_api).create_namespaced_custom_object(
                GROUP,
                VERSION,
                namespace,
                "databaseconnections",
                {**body, "metadata": {"name": f"hang-{i}"}, "spec": spec},
            )
        wait_for(lambda: proxy.active >= HANGING, timeout=60, what="every hanging probe to log in")
        create_connection(kube_api, namespace, "good", pg_db)

        wait_for(
            lambda: _ready(_status(kube_api, namespace, "good")).get("status") == "True",
            timeout=60,
            what="the good connection to become Ready",
        )
        assert proxy.connections >= HANGING

        def failures() -> list[int]:
            return [
                int(_status(kube_api, namespace, f"hang-{i}").get("consecutiveFailures") or 0)
                for i in range(HANGING)
            ]

        wait_for(
            lambda: min(failures()) >= 1, timeout=60, what="a first timed-out probe of each hanging database"
        )
        after_first = _threads(operator.process.pid)
        wait_for(lambda: min(failures()) >= 4, timeout=90, what="three more timed-out probes of each")
        after_fourth = _threads(operator.process.pid)
        for i in range(HANGING):
            ready = _ready(_status(kube_api, namespace, f"hang-{i}"))
            assert ready.get("status") == "False" and ready.get("reason") == "Timeout", ready
            assert "did not answer within 3s" in ready.get("message", ""), ready
        # 3 x 8 more hanging probes ran; a leak would hold a thread for each (24 more). Pools the
        # operator already has start their threads lazily, up to their bound, as work comes
        # (CI once saw 3 more under load), so fewer than one per hanging database is no leak.
        assert after_fourth < after_first + HANGING, (after_first, after_fourth)
        assert operator.running
    finally:
        proxy.stop()
