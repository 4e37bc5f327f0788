"""Fixtures of the e2e tier: a real control plane, Ferry's CRDs, a pod runner, the operator.

Everything here runs against real etcd/kube-apiserver/kube-controller-manager processes
(`harness.controlplane`); pods run as local processes (`harness.podrunner`). Every test in
this folder is marked `e2e` automatically.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from harness.controlplane import ControlPlane
from harness.databases import Database, PostgresServer
from harness.datasets import load_chinook
from harness.kube import api_client, apply_crds, create_namespace, delete_namespace, load_crds
from harness.operator_process import OPERATOR_ARGV, OperatorProcess
from harness.podrunner import PodRunner
from harness.processes import free_port

REPO = Path(__file__).resolve().parents[2]
CRD_DIR = REPO / "crds"
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


@pytest.fixture
def namespace(kube_api: client.ApiClient) -> Iterator[str]:
    """A fresh namespace for one test, deleted (in the background) afterwards."""
    name = create_namespace(kube_api)
    yield name
    delete_namespace(kube_api, name)


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


@pytest.fixture
def operator(control_plane: ControlPlane, crds: list[str], tmp_path: Path) -> Iterator[OperatorProcess]:
    """`ferry operator --all-namespaces` as a subprocess with the admin kubeconfig; stopped after the test.

    Metrics are served on a free port (`operator.metrics_port`): the default 8080 would collide
    with other test sessions on the machine.
    """
    port = free_port()
    argv = [*OPERATOR_ARGV, "--metrics-port", str(port)]
    process = OperatorProcess(control_plane.kubeconfig_path, tmp_path / "operator.log", argv=argv)
    process.metrics_port = port
    process.start()
    yield process
    crashed = process.unexpected_exit()
    process.stop()
    if crashed:
        pytest.fail(crashed)


@pytest.fixture
def pg_source(pg_server: PostgresServer) -> Database:
    """A fresh PostgreSQL database holding Chinook: the source of most Migration scenarios."""
    db = pg_server.create_database()
    load_chinook(db)
    return db
