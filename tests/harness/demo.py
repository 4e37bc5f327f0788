"""`make demo`: the whole system on one machine, then a live status view until Succeeded.

Starts a local control plane, two throwaway PostgreSQL servers (Chinook in the first) and a
MariaDB server (Chinook too), the operator and the pod runner; applies the example manifests
from manifests/examples/ with the servers' addresses filled in; shows `ferry status -w` for
both Migrations; and removes everything on exit (Ctrl-C included).

`--image` (`make demo-image`): the operator is installed as a user installs it, with
`kubectl apply --server-side -k manifests/install`, and its pod and the worker pods run from
Ferry's container image (built from this tree, or reused; harness.image) instead of the source
tree. The operator's pod shares the host's network: ports 8080 and 8081 must be free.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

from harness.controlplane import WORKLOAD_CONTROLLERS, ControlPlane
from harness.databases import Database, MariaDBServer, PostgresServer
from harness.datasets import load_chinook
from harness.image import REPOSITORY, ensure_image
from harness.image_install import apply_install, busy_operator_ports, wait_for_operator
from harness.kube import api_client, apply_crds, create_namespace, load_crds
from harness.operator_process import OperatorProcess
from harness.podrunner import PodRunner
from harness.processes import free_port

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "manifests" / "examples"


def render(template: Path, source: Database, target: Database) -> str:
    text = template.read_text()
    for suffix, db in (("SRC", source), ("DST", target)):
        for key, value in (("HOST", db.host), ("PORT", str(db.port)), ("USER", db.user),
                           ("PASSWORD", db.password), ("DB", db.name)):  # fmt: skip
            text = text.replace(f"{key}_{suffix}", value)
    return text


def step(message: str) -> None:
    print(f"\n\033[1m==> {message}\033[0m", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make demo", description=__doc__.splitlines()[0])
    parser.add_argument("--image", action="store_true", help="install the operator from its container image")
    args = parser.parse_args(argv)
    image = None
    if args.image:
        busy = busy_operator_ports()
        if busy:
            print(f"ports {busy} are in use; the operator's pod binds them on this host", file=sys.stderr)
            return 1
        step("building Ferry's container image (reused when the sources did not change)")
        image = ensure_image()
    work = Path(tempfile.mkdtemp(prefix="ferry-demo-"))
    work.chmod(0o755)  # the database servers run as an unprivileged user under root
    with contextlib.ExitStack() as stack:
        step("starting the control plane (etcd, kube-apiserver, kube-controller-manager)")
        controllers = WORKLOAD_CONTROLLERS if image else ()
        plane = stack.enter_context(ControlPlane(base_dir=work / "kube", extra_controllers=controllers))
        api = stack.enter_context(api_client(plane.server, plane.ca_path, plane.admin_token))
        if image is None:
            apply_crds(api, load_crds(sorted((ROOT / "crds").glob("*.yaml"))))

        step("starting two PostgreSQL servers and MariaDB, loading Chinook")
        pg_src = PostgresServer(work / "pg-src").start()
        stack.callback(pg_src.stop)
        pg_dst = PostgresServer(work / "pg-dst").start()
        stack.callback(pg_dst.stop)
        maria = MariaDBServer(work / "maria").start()
        stack.callback(maria.stop)
        src, dst, maria_src, dst2 = (pg_src.create_database(), pg_dst.create_database(),
                                     maria.create_database(), pg_dst.create_database())  # fmt: skip
        load_chinook(src)
        load_chinook(maria_src)

        if image is None:
            step("starting the operator and the pod runner (stand-in for a kubelet)")
            command = ["operator", "-A", "--metrics-port", str(free_port())]
            argv = [sys.executable, "-m", "ferry.cli.main", *command]
            operator = OperatorProcess(plane.kubeconfig_path, work / "operator.log", argv=argv)
            operator.start()
            stack.callback(operator.stop)
            runner = PodRunner(api, plane.server, plane.ca_path, base_dir=work / "pods").start()
            stack.callback(runner.stop)
        else:
            step(f"kubectl apply --server-side -k manifests/install; pods run from {image}")
            images = {REPOSITORY: image}
            runner = PodRunner(
                api, plane.server, plane.ca_path, base_dir=work / "pods", images=images
            ).start()
            stack.callback(runner.stop)
            apply_install(plane)
            wait_for_operator(api, runner)

        namespace = create_namespace(api, prefix="demo")
        step(f"kubectl apply -f manifests/examples/ (namespace {namespace})")
        for template, target_db, source_db in (
            (EXAMPLES / "chinook-pg.yaml", dst, src),
            (EXAMPLES / "chinook-mariadb-to-pg.yaml", dst2, maria_src),
        ):
            manifest = work / template.name
            manifest.write_text(render(template, source_db, target_db))
            plane.kubectl("apply", "-n", namespace, "-f", str(manifest))
        env = {**os.environ, "KUBECONFIG": str(plane.kubeconfig_path)}
        docs = [d for t in EXAMPLES.glob("*.yaml") for d in yaml.safe_load_all(t.read_text()) if d]
        names = [d["metadata"]["name"] for d in docs if d.get("kind") == "Migration"]
        codes = []
        for name in sorted(names):
            step(f"kubectl ferry status mig/{name} -w")
            codes.append(subprocess.call([sys.executable, "-m", "ferry.cli.main", "status", f"mig/{name}",
                                          "-n", namespace, "-w"], env=env))  # fmt: skip
        step("kubectl get dbc,mig")
        print(plane.kubectl("get", "dbc,mig", "-n", namespace).stdout, flush=True)
        step("cleaning up")
        return 0 if all(code == 0 for code in codes) else 1


if __name__ == "__main__":
    sys.exit(main())
