"""Notifications end to end: a Migration's own sinks get a signed CloudEvent for every phase change,
while a sink that answers 500 and one that never answers neither hold the Migration back nor go
unnoticed (its NotificationsDelivered condition names the failing one)."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from kubernetes import client

from e2e.migration_helpers import condition, get_migration, start_migration, wait_for_phase
from ferry.kube.webhook_signing import verify
from harness.databases import Database
from harness.operator_process import OperatorProcess
from harness.podrunner import PodRunner

SIGNING_KEY = "k3y-for-hmac-0f1e2d"


class Receiver:
    """A webhook receiver: answers `status` (after `delay` seconds) and keeps what it was sent."""

    def __init__(self, status: int = 200, delay: float = 0.0) -> None:
        self.received: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                receiver.received.append((dict(self.headers.items()), body))
                if delay:
                    time.sleep(delay)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hook"
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _secret(api: client.ApiClient, namespace: str, name: str, data: dict[str, str]) -> None:
    client.CoreV1Api(api).create_namespaced_secret(
        namespace, {"metadata": {"name": name}, "stringData": data}
    )


def _chain(events: list[dict[str, Any]]) -> list[str]:
    """The phases the events walk through from Pending, following previousPhase (delivery may
    reorder them: the pool sends in parallel)."""
    by_previous = {e["data"]["previousPhase"]: e["data"]["phase"] for e in events}
    phases, phase = ["Pending"], "Pending"
    while phase in by_previous:
        phase = by_previous.pop(phase)
        phases.append(phase)
    assert not by_previous, f"events outside the chain: {by_previous}"
    return phases


def test_signed_cloudevents_for_each_phase_change_and_failing_sinks_do_not_hold_the_migration(
    kube_api: client.ApiClient,
    namespace: str,
    operator: OperatorProcess,
    pod_runner: PodRunner,
    pg_source: Database,
    pg_db2: Database,
) -> None:
    good, failing, hanging = Receiver(), Receiver(status=500), Receiver(delay=60)
    try:
        urls = {"good": good.url, "failing": failing.url, "hanging": hanging.url}
        _secret(kube_api, namespace, "hooks", {**urls, "key": SIGNING_KEY})
        every_phase = ["PhaseChanged"]
        spec = {
            "source": {"connectionRef": {"name": "src"}},
            "target": {"connectionRef": {"name": "dst"}, "schema": "public"},
            "copy": {"batchSize": 500, "parallelism": 2},
            "validation": {"rowCount": True},
            "notifications": [
                {"name": "audit", "format": "cloudevents", "events": every_phase,
                 "webhookSecretRef": {"name": "hooks", "key": "good"},
                 "signingKeySecretRef": {"name": "hooks", "key": "key"}},
                {"name": "broken", "events": every_phase,
                 "webhookSecretRef": {"name": "hooks", "key": "failing"}},
                {"name": "stuck", "events": every_phase,
                 "webhookSecretRef": {"name": "hooks", "key": "hanging"}},
            ],
        }  # fmt: skip
        start_migration(kube_api, namespace, "noisy", pg_source, pg_db2, spec)
        wait_for_phase(kube_api, namespace, "noisy", {"Succeeded"}, timeout=240)

        deadline = time.monotonic() + 60  # deliveries run beside the reconcile; wait for the last
        events: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            events = [json.loads(body) for _, body in good.received]
            if any(e["data"]["phase"] == "Succeeded" for e in events):
                break
            time.sleep(0.5)
        for headers, body in good.received:
            assert headers["Content-Type"] == "application/cloudevents+json"
            assert verify(body, SIGNING_KEY, headers["X-Ferry-Signature"]), "a signature does not verify"
        assert _chain(events)[0] == "Pending" and _chain(events)[-1] == "Succeeded", _chain(events)
        assert {"Planning", "Running", "Validating"} <= set(_chain(events))
        for event in events:
            assert event["specversion"] == "1.0" and event["subject"] == f"{namespace}/noisy"
            assert event["source"] == f"/apis/ferry.dev/v1alpha1/namespaces/{namespace}/migrations/noisy"
            assert event["type"].startswith("dev.ferry.migration.") and event["time"]
        assert len({e["id"] for e in events}) == len(events)
        assert failing.received and hanging.received  # tried, and neither held the Migration

        deadline = time.monotonic() + 60
        delivered: dict[str, Any] = {}
        while time.monotonic() < deadline:
            delivered = condition(
                get_migration(kube_api, namespace, "noisy")["status"], "NotificationsDelivered"
            )
            if delivered.get("status") == "False" and "broken" in delivered.get("message", ""):
                break
            time.sleep(0.5)
        assert delivered.get("reason") in {"NotificationRetrying", "NotificationFailed"}, delivered
        assert "HTTP 500" in delivered["message"] and good.url not in delivered["message"]
    finally:
        for receiver in (good, failing, hanging):
            receiver.close()
