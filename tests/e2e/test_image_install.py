"""Ferry installed the way a user installs it, running from its container image.

Each test starts its own control plane with the Deployment and ReplicaSet controllers on
(`WORKLOAD_CONTROLLERS`), so the install's Deployment gets a pod, and a pod runner in image
mode: every pod whose image is `ghcr.io/ferry-dev/ferry` (the operator's and the workers',
whatever tag or digest the manifests pin) runs from the image built from this tree
(`harness.image`, built once per content and reused) with `buildah run`. The test starts no
operator itself: the operator is whatever `kubectl apply -k` or `helm install` made of the
shipped manifests, and it reconciles a Migration to Succeeded with worker Jobs from the image.

The pods share the host's network, so the operator binds the manifests' ports 8080 and 8081
on this machine; the test checks they are free first. Marked `image` (`make test-image`).
"""

from __future__ import annotations

import json
import subprocess
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest
from kubernetes import client

from e2e.migration_helpers import condition, start_migration, wait_for_phase, worker_jobs
from harness.controlplane import WORKLOAD_CONTROLLERS, ControlPlane
from harness.databases import Database, MariaDBServer
from harness.datasets import load_chinook
from harness.image import REPOSITORY, ensure_image
from harness.image_install import INSTALL, OPERATOR_NS, busy_operator_ports, wait_for_operator
from harness.kube import api_client, create_namespace, wait_for_job_condition
from harness.podrunner import PodRunner

pytestmark = pytest.mark.image

REPO = Path(__file__).resolve().parents[2]
CHART = REPO / "charts" / "ferry"
CHINOOK_ROWS = 15607


@dataclass
class Cluster:
    plane: ControlPlane
    api: client.ApiClient
    runner: PodRunner
    image: str


@pytest.fixture(scope="module")
def ferry_image() -> str:
    return ensure_image()


@pytest.fixture
def cluster(ferry_image: str) -> Iterator[Cluster]:
    busy = busy_operator_ports()
    if busy:
        pytest.fail(f"ports {busy} are in use on this host; the operator pod shares the host network")
    plane = ControlPlane(extra_controllers=WORKLOAD_CONTROLLERS).start()
    api = api_client(plane.server, plane.ca_path, plane.admin_token)
    runner = PodRunner(
        api, plane.server, plane.ca_path, base_dir=plane.base_dir / "pods", images={REPOSITORY: ferry_image}
    ).start()
    yield Cluster(plane, api, runner, ferry_image)
    runner.stop()
    api.close()
    plane.cleanup()


def _spec() -> dict[str, object]:
    return {
        "source": {"connectionRef": {"name": "src"}},
        "target": {"connectionRef": {"name": "dst"}, "schema": "public"},
        "copy": {"batchSize": 1000, "parallelism": 2},
        "validation": {"rowCount": True, "checksum": True},
    }


def _count(db: Database, table: str) -> int:
    with psycopg.connect(db.libpq_dsn()) as conn:
        row = conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()
        return int(row[0]) if row else -1


def _wait_for_operator(cluster: Cluster, timeout: float = 120) -> None:
    wait_for_operator(cluster.api, cluster.runner, timeout)


def _migrate_and_check(
    cluster: Cluster, source: Database, target: Database, spec: dict[str, object], tracks: str
) -> None:
    """The installed operator reconciles a Migration to Succeeded; operator and workers ran from the image."""
    _wait_for_operator(cluster)
    (operator,) = cluster.runner.runs(OPERATOR_NS)
    assert operator.image == cluster.image
    assert operator.argv[:2] == ["ferry", "operator"] and "--leader-elect" in operator.argv

    namespace = create_namespace(cluster.api)
    start_migration(cluster.api, namespace, "chinook", source, target, spec)
    try:
        done = wait_for_phase(cluster.api, namespace, "chinook", {"Succeeded"}, timeout=180)
    except AssertionError as error:
        raise AssertionError(f"{error}\noperator log tail:\n{operator.logs()[-3000:]}") from None
    status = done["status"]
    assert status["progress"]["rowsCopied"] == CHINOOK_ROWS
    assert condition(status, "Ready")["status"] == "True"
    assert _count(target, tracks) == 3503
    assert len(worker_jobs(cluster.api, namespace, "chinook")) == 1

    workers = cluster.runner.runs(namespace)
    assert workers, "no worker pod ran"
    assert all(run.image == cluster.image and run.exit_code == 0 for run in workers), [
        (run.name, run.image, run.exit_code, run.logs()[-500:]) for run in workers
    ]
    # The metrics are the installed operator's (its pod binds the manifests' port 8080 here).
    metrics = urllib.request.urlopen("http://127.0.0.1:8080/metrics", timeout=10).read().decode()
    assert f'ferry_migration_phase{{name="chinook",namespace="{namespace}",phase="Succeeded"}} 1.0' in metrics
    logs = cluster.runner.all_logs()
    assert source.password not in logs and target.password not in logs


def test_kubectl_apply_k_install_runs_a_pg_to_pg_migration_from_the_image(
    cluster: Cluster, pg_source: Database, pg_db2: Database
) -> None:
    cluster.plane.kubectl("apply", "--server-side", "-k", str(INSTALL))
    _migrate_and_check(cluster, pg_source, pg_db2, _spec(), tracks="track")


def test_helm_install_runs_a_mariadb_to_pg_migration_from_the_image(
    cluster: Cluster, mariadb_server: MariaDBServer, pg_db2: Database
) -> None:
    source = mariadb_server.create_database()
    load_chinook(source)
    helm = cluster.plane.assets / "helm"
    subprocess.run(
        [str(helm), "install", "ferry", str(CHART), "--namespace", OPERATOR_NS, "--create-namespace",
         "--kubeconfig", str(cluster.plane.kubeconfig_path)],
        check=True, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    # Mode create: tables made without keys, loaded, then completed (MariaDB's drivers in the image).
    _migrate_and_check(cluster, source, pg_db2, {**_spec(), "schema": {"mode": "create"}}, tracks="Track")


_PROBE = """
import json, os, sys
from kubernetes import client, config
config.load_incluster_config()  # the mounted ServiceAccount token and KUBERNETES_SERVICE_*
version = client.VersionApi().get_code().git_version
with open("/tmp/probe", "w") as fh:
    fh.write("ok")
namespace = open("/var/run/secrets/kubernetes.io/serviceaccount/namespace").read()
print(json.dumps({"uid": os.getuid(), "gid": os.getgid(), "cwd": os.getcwd(), "prefix": sys.prefix,
                  "secret": os.environ["FROM_SECRET"], "namespace": namespace, "version": version}))
"""


def test_the_pod_runner_runs_a_pod_from_the_image_as_a_kubelet_would(cluster: Cluster) -> None:
    namespace = create_namespace(cluster.api)
    client.CoreV1Api(cluster.api).create_namespaced_secret(
        namespace, {"metadata": {"name": "s"}, "stringData": {"key": "value-from-secret"}}
    )
    # Any tag or digest of the repository maps to the local image, as a pinned manifest would.
    image = f"{REPOSITORY}:0.0.0@sha256:{'0' * 64}"
    probe = {
        "name": "probe",
        "image": image,
        "command": ["python3", "-c", _PROBE],
        "workingDir": "/opt",
        "env": [{"name": "FROM_SECRET", "valueFrom": {"secretKeyRef": {"name": "s", "key": "key"}}}],
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
    }
    for name, container in (("probe", probe), ("help", {"name": "help", "image": image, "args": ["--help"]})):
        job = {
            "metadata": {"name": name},
            "spec": {
                "backoffLimit": 0,
                "template": {
                    "spec": {
                        "restartPolicy": "Never",
                        "securityContext": {"runAsUser": 4242, "runAsGroup": 4343},
                        "containers": [container],
                        "volumes": [{"name": "tmp", "emptyDir": {}}],
                    }
                },
            },
        }
        client.BatchV1Api(cluster.api).create_namespaced_job(namespace, job)
        outcome = wait_for_job_condition(cluster.api, namespace, name, timeout=120)
        runs = [run for run in cluster.runner.runs(namespace) if run.name.startswith(f"{name}-")]
        assert outcome == "Complete", [run.logs() for run in runs]
        assert [run.image for run in runs] == [cluster.image]

    probe_run, help_run = (
        next(run for run in cluster.runner.runs(namespace) if run.name.startswith(f"{name}-"))
        for name in ("probe", "help")
    )
    seen = json.loads(probe_run.logs().strip().splitlines()[-1])
    assert seen == {
        "uid": 4242,
        "gid": 4343,
        "cwd": "/opt",
        "prefix": "/opt/ferry",  # the image's virtualenv, not the test's
        "secret": "value-from-secret",
        "namespace": namespace,
        "version": seen["version"],
    }
    assert seen["version"].startswith("v1.")
    # No command: the image's ENTRYPOINT (ferry) with the pod's args.
    assert help_run.argv == ["ferry", "--help"] and "usage: ferry" in help_run.logs()
