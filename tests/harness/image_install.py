"""Ferry installed from its image onto a test control plane, as a user installs it.

`kubectl apply --server-side -k manifests/install` (or the chart), then the Deployment's pod run
by the pod runner in image mode: shared by tests/e2e/test_image_install.py and `make demo-image`.
The control plane needs the Deployment and ReplicaSet controllers (WORKLOAD_CONTROLLERS); the
operator's pod shares the host's network, so the manifests' ports must be free here.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

from kubernetes import client

from harness.controlplane import ControlPlane
from harness.podrunner import PodRunner

REPO = Path(__file__).resolve().parents[2]
INSTALL = REPO / "manifests" / "install"
OPERATOR_NS = "ferry-system"
OPERATOR_PORTS = (8080, 8081)  # --metrics-port and --liveness-port of manifests/install


def busy_operator_ports() -> list[int]:
    """The manifests' ports some other process holds on this host (the operator pod could not bind them)."""
    busy = []
    for port in OPERATOR_PORTS:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                busy.append(port)
    return busy


def apply_install(plane: ControlPlane) -> None:
    plane.kubectl("apply", "--server-side", "-k", str(INSTALL))


def wait_for_operator(api: client.ApiClient, runner: PodRunner, timeout: float = 120) -> None:
    """The Deployment Available (its pod runs from the image and is Ready), or fail with its log."""
    apps = client.AppsV1Api(api)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = apps.read_namespaced_deployment("ferry-operator", OPERATOR_NS).status
        if (status.available_replicas or 0) >= 1:
            return
        time.sleep(0.5)
    logs = "\n".join(run.logs()[-2000:] for run in runner.runs(OPERATOR_NS))
    raise AssertionError(f"Deployment ferry-operator not available after {timeout}s; pod logs:\n{logs}")
