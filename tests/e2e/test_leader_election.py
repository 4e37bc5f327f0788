"""Two operators, one Lease: exactly one acts; kill it and the other takes over; steal the lease
and the holder stops acting and exits.

Both run as the operator ServiceAccount (the shipped ClusterRole, and the shipped leader-election
Role bound in the test's namespace, where the Lease lives), with `--leader-elect`.
"""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client

from e2e.conftest import INSTALL, OPERATOR_NS
from e2e.migration_helpers import create_connection, create_migration, wait_for_phase, worker_jobs
from ferry.kube.election_settings import DEFAULT_LEASE_NAME
from harness.databases import Database, PostgresServer
from harness.operator_process import OPERATOR_ARGV, OperatorProcess
from harness.podrunner import PodRunner
from harness.processes import free_port

TAKEOVER_LIMIT = 30  # lease 15 s + a poll of 2 s, with room for a loaded machine


@dataclass
class Candidate:
    name: str
    process: OperatorProcess
    metrics_port: int
    health_port: int

    def get(self, port: int, path: str) -> tuple[int, str]:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as response:
            return response.status, response.read().decode()

    def leader_gauge(self) -> str:
        _, text = self.get(self.metrics_port, "/metrics")
        return next(line for line in text.splitlines() if line.startswith("ferry_operator_leader "))

    def holds(self, holder: str | None) -> bool:
        return bool(holder) and str(holder).startswith(f"{self.name}_")


def _manifest(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((INSTALL / name).read_text())
    return doc


@pytest.fixture
def lease_rbac(kube_api: client.ApiClient, operator_kubeconfig: Path, namespace: str) -> None:
    """The shipped leader-election Role and RoleBinding, moved to the test's namespace."""
    role, binding = _manifest("role-leader-election.yaml"), _manifest("rolebinding-leader-election.yaml")
    role["metadata"]["namespace"] = binding["metadata"]["namespace"] = namespace
    binding["subjects"][0]["namespace"] = OPERATOR_NS
    rbac = client.RbacAuthorizationV1Api(kube_api)
    rbac.create_namespaced_role(namespace, role)
    rbac.create_namespaced_role_binding(namespace, binding)


@pytest.fixture
def candidates(
    operator_kubeconfig: Path, lease_rbac: None, namespace: str, tmp_path: Path
) -> Iterator[list[Candidate]]:
    started = []
    for name in ("op-a", "op-b"):
        metrics, health = free_port(), free_port()
        argv = [
            *OPERATOR_ARGV,
            *("--metrics-port", str(metrics), "--liveness-port", str(health)),
            *("--leader-elect", "--leader-election-namespace", namespace),
        ]
        process = OperatorProcess(
            operator_kubeconfig, tmp_path / f"{name}.log", argv=argv, env={"POD_NAME": name}
        )
        started.append(Candidate(name, process.start(), metrics, health))
    yield started
    for candidate in started:
        candidate.process.stop()


def _holder(api: client.ApiClient, namespace: str) -> str | None:
    try:
        lease = client.CoordinationV1Api(api).read_namespaced_lease(DEFAULT_LEASE_NAME, namespace)
    except client.ApiException as error:
        if error.status == 404:
            return None
        raise
    holder: str | None = lease.spec.holder_identity
    return holder


def _wait(check: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def _spec(target: str) -> dict[str, Any]:
    return {
        "source": {"connectionRef": {"name": "src"}},
        "target": {"connectionRef": {"name": target}, "schema": "public"},
        "copy": {"batchSize": 1000, "parallelism": 2},
    }


def _kopf_lines(log: str) -> list[str]:
    """Lines of kopf itself or of Ferry's handlers: a standby writes none."""
    return [line for line in log.splitlines() if "kopf" in line or "ferry.controllers" in line]


def test_one_operator_acts_and_a_standby_takes_over_within_the_lease(
    kube_api: client.ApiClient,
    namespace: str,
    candidates: list[Candidate],
    pod_runner: PodRunner,
    pg_server: PostgresServer,
    pg_source: Database,
    pg_db2: Database,
) -> None:
    began = time.monotonic()
    # Exactly one leads: the Lease names it, it serves kopf's /healthz, its gauge says so.
    holder = _wait(lambda: _holder(kube_api, namespace), 30, "a lease holder")
    [leader] = [c for c in candidates if c.holds(holder)]
    [standby] = [c for c in candidates if c is not leader]
    leader.process.wait_for_log("became the leader", timeout=10)
    _wait(lambda: _answers(leader, "/healthz"), 20, "kopf's /healthz on the leader")
    assert leader.leader_gauge() == "ferry_operator_leader 1.0"
    # The standby is alive and ready (its own /healthz), exports metrics, and runs no kopf.
    assert standby.process.running
    status, body = standby.get(standby.health_port, "/healthz")
    assert status == 200 and "standby" in body
    assert standby.leader_gauge() == "ferry_operator_leader 0.0"

    # The leader reconciles a Migration: one Job, Succeeded; the standby does nothing.
    create_connection(kube_api, namespace, "src", pg_source)
    create_connection(kube_api, namespace, "dst", pg_db2)
    create_migration(kube_api, namespace, "first", _spec("dst"))
    wait_for_phase(kube_api, namespace, "first", {"Succeeded"}, timeout=120)
    assert len(worker_jobs(kube_api, namespace, "first")) == 1
    assert _kopf_lines(leader.process.log_text()), "the leader's log shows no handler activity"
    assert _kopf_lines(standby.process.log_text()) == [], "the standby ran kopf"
    assert "first" not in standby.process.log_text()

    # kill -9 the leader: the standby takes the lease once it expires, and starts acting.
    leader.process.kill()
    killed = time.monotonic()
    new_holder = _wait(lambda: standby.holds(_holder(kube_api, namespace)), TAKEOVER_LIMIT, "the takeover")
    takeover = time.monotonic() - killed
    assert new_holder
    standby.process.wait_for_log("became the leader", timeout=10)
    assert standby.leader_gauge() == "ferry_operator_leader 1.0"
    _wait(lambda: _answers(standby, "/healthz"), 20, "kopf's /healthz on the new leader")

    # The new leader reconciles a new Migration; the old one keeps its single Job.
    create_connection(kube_api, namespace, "dst2", pg_server.create_database())
    create_migration(kube_api, namespace, "second", _spec("dst2"))
    wait_for_phase(kube_api, namespace, "second", {"Succeeded"}, timeout=120)
    assert len(worker_jobs(kube_api, namespace, "second")) == 1
    assert len(worker_jobs(kube_api, namespace, "first")) == 1, "the new leader re-ran a finished Migration"

    # Someone else takes the lease (as a partitioned leader would find): the holder stops acting
    # and exits non-zero within the renew deadline plus the grace, to restart as a standby.
    process = standby.process.process
    assert process is not None
    _steal_lease(kube_api, namespace)
    stolen = time.monotonic()
    _wait(lambda: process.poll() is not None, 25, "the holder's exit after losing the lease")
    assert process.returncode == 1
    lost_after = time.monotonic() - stolen
    assert "stopping, this process may no longer act" in standby.process.log_text()
    print(f"\ntakeover after kill -9: {takeover:.1f}s; exit after losing the lease: {lost_after:.1f}s; "
          f"test: {time.monotonic() - began:.0f}s")  # fmt: skip


def test_a_leader_stopped_by_sigterm_exits_cleanly_and_at_once(
    kube_api: client.ApiClient, namespace: str, candidates: list[Candidate]
) -> None:
    """A rollout's SIGTERM: kopf stops, and the process exits 0 without waiting for the lease."""
    holder = _wait(lambda: _holder(kube_api, namespace), 30, "a lease holder")
    [leader] = [c for c in candidates if c.holds(holder)]
    leader.process.wait_for_log("became the leader", timeout=10)
    _wait(lambda: _answers(leader, "/healthz"), 20, "kopf's /healthz on the leader")
    asked = time.monotonic()
    assert leader.process.stop(timeout=10) == 0
    assert time.monotonic() - asked < 8
    assert "stopping, this process may no longer act" not in leader.process.log_text()


def _answers(candidate: Candidate, path: str) -> bool:
    try:
        status, body = candidate.get(candidate.health_port, path)
    except OSError:
        return False
    return status == 200 and "standby" not in body


def _steal_lease(api: client.ApiClient, namespace: str) -> None:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    client.CoordinationV1Api(api).patch_namespaced_lease(
        DEFAULT_LEASE_NAME,
        namespace,
        {"spec": {"holderIdentity": "intruder", "renewTime": now, "acquireTime": now}},
    )
