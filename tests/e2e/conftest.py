"""Fixtures of the e2e tier: a real control plane, Ferry's CRDs, a pod runner, the operator.

Everything here runs against real etcd/kube-apiserver/kube-controller-manager processes
(`harness.controlplane`); pods run as local processes (`harness.podrunner`). Every test in
this folder is marked `e2e` automatically.
"""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from harness.controlplane import ControlPlane
from harness.databases import Database, PostgresServer
from harness.datasets import load_chinook
from harness.kube import api_client, apply_crds, create_namespace, delete_namespace, load_crds
from harness.leak_scan import leaks, namespace_texts, secret_values
from harness.operator_process import OPERATOR_ARGV, OperatorProcess
from harness.podrunner import PodRunner
from harness.processes import free_port

REPO = Path(__file__).resolve().parents[2]
CRD_DIR = REPO / "crds"
INSTALL = REPO / "manifests" / "install"
OPERATOR_NS = "ferry-operator-e2e"  # not ferry-system: the chart and install tests create that one
_HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if _HERE in item.path.parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def control_plane() -> Iterator[ControlPlane]:
    plane = ControlPlane().start()
    yield plane
    plane.cleanup()


@pytest.fixture(scope="session")
def kube_api(control_plane: ControlPlane) -> Iterator[client.ApiClient]:
    """An API client with the admin token (system:masters)."""
    api = api_client(control_plane.server, control_plane.ca_path, control_plane.admin_token)
    yield api
    api.close()


@pytest.fixture(scope="session")
def crds(kube_api: client.ApiClient) -> list[str]:
    """Every committed `crds/*.yaml` applied and Established; returns the CRD names."""
    started = time.monotonic()
    names = apply_crds(kube_api, load_crds(CRD_DIR.glob("*.yaml")))
    print(f"\nCRDs established in {time.monotonic() - started:.1f}s: {', '.join(names)}")
    return names


def _scrape(port: int) -> str:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            return str(response.read().decode())
    except OSError:
        return ""


@pytest.fixture(scope="session")
def seen_secrets() -> set[str]:
    """Every secret value the suite's namespaces held (the leak scan looks for all of them)."""
    return set()


def _fail_on_leaks(texts: dict[str, str], secrets: set[str]) -> None:
    found = leaks(texts, secrets)
    if found:
        pytest.fail("secret values leaked into what Ferry wrote:\n" + "\n".join(found))


@pytest.fixture
def namespace(
    kube_api: client.ApiClient, control_plane: ControlPlane, seen_secrets: set[str]
) -> Iterator[str]:
    """A fresh namespace for one test, deleted (in the background) afterwards, once the leak scan
    found none of its secrets in the statuses, events, ConfigMaps and pod logs of Ferry there."""
    name = create_namespace(kube_api)
    yield name
    try:
        secrets = secret_values(kube_api, name)
        seen_secrets.update(secrets)
        texts = namespace_texts(kube_api, name, control_plane.base_dir / "pods" / "logs")
    finally:
        delete_namespace(kube_api, name)
    _fail_on_leaks(texts, secrets | seen_secrets)


@pytest.fixture(scope="session")
def pod_runner(control_plane: ControlPlane, kube_api: client.ApiClient) -> Iterator[PodRunner]:
    runner = PodRunner(
        kube_api, control_plane.server, control_plane.ca_path, base_dir=control_plane.base_dir / "pods"
    ).start()
    yield runner
    runner.stop()


@pytest.fixture
def user_api(control_plane: ControlPlane) -> Iterator[dict[str, client.ApiClient]]:
    """API clients of the restricted users (`alice`, `bob`, `carol`), by name: no rights until bound."""
    clients = {
        name: api_client(control_plane.server, control_plane.ca_path, control_plane.user_token(name))
        for name in ("alice", "bob", "carol")
    }
    yield clients
    for api in clients.values():
        api.close()


@pytest.fixture(scope="session")
def operator_kubeconfig(control_plane: ControlPlane, kube_api: client.ApiClient, crds: list[str]) -> Path:
    """A kubeconfig of the ServiceAccount `ferry-operator-e2e/ferry-operator` bound to the shipped
    `ferry-operator` ClusterRole, as the install manifests bind it: the operator of every e2e test
    runs with exactly the permissions users grant it (no list or watch of Secrets, say)."""
    control_plane.kubectl("apply", "--server-side", "-f", str(INSTALL / "clusterrole-operator.yaml"))
    control_plane.kubectl("apply", "--server-side", "-f", str(INSTALL / "clusterroles-users.yaml"))
    # Approvals count only where the apiserver verifies approvers, as the install base makes it.
    control_plane.kubectl("apply", "--server-side", "-f", str(INSTALL / "policy-approvals.yaml"))
    core = client.CoreV1Api(kube_api)
    core.create_namespace({"metadata": {"name": OPERATOR_NS}})
    core.create_namespaced_service_account(OPERATOR_NS, {"metadata": {"name": "ferry-operator"}})
    client.RbacAuthorizationV1Api(kube_api).create_cluster_role_binding(
        {
            "metadata": {"name": OPERATOR_NS},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "ferry-operator",
            },
            "subjects": [{"kind": "ServiceAccount", "name": "ferry-operator", "namespace": OPERATOR_NS}],
        }
    )
    token = core.create_namespaced_service_account_token(
        "ferry-operator", OPERATOR_NS, {"spec": {"expirationSeconds": 24 * 3600}}
    ).status.token
    return control_plane.kubeconfig_for_token(token, "ferry-operator")


@pytest.fixture
def operator(
    control_plane: ControlPlane,
    operator_kubeconfig: Path,
    tmp_path: Path,
    kube_api: client.ApiClient,
    seen_secrets: set[str],
) -> Iterator[OperatorProcess]:
    """`ferry operator --all-namespaces` as a subprocess, as the shipped ClusterRole's
    ServiceAccount (`operator_kubeconfig`); stopped after the test.

    Metrics are served on a free port (`operator.metrics_port`): the default 8080 would collide
    with other test sessions on the machine.
    """
    port = free_port()
    argv = [*OPERATOR_ARGV, "--metrics-port", str(port)]
    process = OperatorProcess(operator_kubeconfig, tmp_path / "operator.log", argv=argv)
    process.metrics_port = port
    process.start()
    yield process
    crashed = process.unexpected_exit()
    texts = {"operator /metrics": _scrape(port)} if not crashed else {}
    process.stop()
    if crashed:
        pytest.fail(crashed)
    # The operator served every test namespace: look for all their secrets in its log and metrics.
    for test_namespace in (
        client.CoreV1Api(kube_api).list_namespace(label_selector="ferry.dev/test=true").items
    ):
        seen_secrets.update(secret_values(kube_api, test_namespace.metadata.name))
    texts["operator log"] = process.log_path.read_text(errors="replace") if process.log_path.exists() else ""
    _fail_on_leaks(texts, seen_secrets)


@pytest.fixture
def pg_source(pg_server: PostgresServer) -> Database:
    """A fresh PostgreSQL database holding Chinook: the source of most Migration scenarios."""
    db = pg_server.create_database()
    load_chinook(db)
    return db
