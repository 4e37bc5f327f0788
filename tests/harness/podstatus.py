"""Pod and Node status documents as a kubelet writes them, built by pure functions.

The Job controller reads `phase` and `containerStatuses[].state.terminated.exitCode`; the rest
(conditions, IPs) makes `kubectl get pods -o wide` and `kubectl describe` look normal.
"""

from __future__ import annotations

import datetime
from typing import Any

LOOPBACK = "127.0.0.1"


def now() -> str:
    return datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def container_status(
    container: dict[str, Any],
    state: dict[str, Any],
    ready: bool,
    restarts: int,
    last_state: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """`{"containerStatuses": [...]}` for the (only) container the runner runs."""
    status = {
        "name": container["name"],
        "image": container.get("image", ""),
        "imageID": "",
        "ready": ready,
        "started": "running" in state,
        "restartCount": restarts,
        "state": state,
        "lastState": last_state or {},
    }
    return {"containerStatuses": [status]}


def pod_status_patch(
    status: dict[str, Any], ready: bool, kept: tuple[dict[str, Any], ...] = ()
) -> dict[str, Any]:
    """A merge patch of a pod's whole status: `status` plus conditions and addresses. A merge
    patch replaces the list of conditions, so conditions others wrote that a kubelet keeps
    (`kept`: the API server's `DisruptionTarget` of an eviction) are written again with it."""
    stamp = now()
    flag = "True" if ready else "False"
    conditions = [
        {"type": "PodScheduled", "status": "True", "lastTransitionTime": stamp},
        {"type": "Initialized", "status": "True", "lastTransitionTime": stamp},
        {"type": "ContainersReady", "status": flag, "lastTransitionTime": stamp},
        {"type": "Ready", "status": flag, "lastTransitionTime": stamp},
        *kept,
    ]
    addresses = {"hostIP": LOOPBACK, "podIP": LOOPBACK, "podIPs": [{"ip": LOOPBACK}]}
    return {"status": {**addresses, "conditions": conditions, **status}}


def ready_node(name: str) -> dict[str, Any]:
    """A Node that reports Ready, with room for any number of test pods."""
    ready = {
        "type": "Ready",
        "status": "True",
        "reason": "KubeletReady",
        "message": "harness pod runner",
        "lastHeartbeatTime": now(),
        "lastTransitionTime": now(),
    }
    resources = {"cpu": "64", "memory": "256Gi", "pods": "1000"}
    return {
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux"}},
        "status": {"conditions": [ready], "capacity": resources, "allocatable": resources},
    }
