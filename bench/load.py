"""`make load`: many Migrations and DatabaseConnections on the real control plane, with the operator.

    PYTHONPATH=tests:operator python -m bench.load [--migrations 200] [--connections 100]
        [--namespaces 10] [--window 60] [--operator-src DIR] [--output bench/results/load-<ts>.json]

Starts etcd + kube-apiserver + kube-controller-manager (tests/harness/controlplane.py), one
PostgreSQL server, the pod runner and `ferry operator --all-namespaces`, then creates, across
`--namespaces` namespaces, `--connections` DatabaseConnections (half to a small source database,
half to a target database) and `--migrations` Migrations in a mix of three:

- awaiting approval: `rollback.onDelete: truncate` is a destructive data operation, so the plan
  waits for a person; the operator checks its basis every 15 s;
- finished: a real copy of a 100-row table into a schema of its own (worker pods run as local
  processes), which ends Succeeded;
- failing: the source connection does not exist, so it waits (`WaitingForConnection`) and is
  looked at again every 5 s.

It waits until every Migration is where its kind ends (`converge` in the JSON: seconds, and the
apiserver requests and operator CPU spent getting there), then measures a steady window of
`--window` seconds: apiserver requests per second (the apiserver's own `apiserver_request_total`,
by resource and verb; everything else in the cluster is idle), the operator's CPU seconds per
second and RSS, which Migrations changed and which of their status fields (a watch), and the
percentiles of the operator's reconcile steps
(`ferry_migration_reconcile_seconds`, interpolated within histogram buckets). `--operator-src`
runs another checkout's operator (its `operator/` directory) against the same scenario, for a
before/after comparison.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import ssl
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kubernetes import client, watch
from prometheus_client.parser import text_string_to_metric_families

from bench.scenario import items_databases, write_result
from harness.controlplane import ControlPlane
from harness.databases import PostgresServer
from harness.kube import api_client, apply_crds, create_namespace, load_crds
from harness.operator_process import OPERATOR_ARGV, OperatorProcess
from harness.podrunner import PodRunner
from harness.processes import free_port

REPO = Path(__file__).resolve().parents[1]
KINDS = ("awaiting", "finished", "failing")
EXPECTED = {"awaiting": "AwaitingApproval", "finished": "Succeeded", "failing": "Pending"}


def _args(argv: list[str] | None) -> argparse.Namespace:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    parser = argparse.ArgumentParser(prog="bench.load", description=__doc__.split("\n\n")[0])
    parser.add_argument("--migrations", type=int, default=200)
    parser.add_argument("--connections", type=int, default=100, help="even; half sources, half targets")
    parser.add_argument("--namespaces", type=int, default=10)
    parser.add_argument("--window", type=float, default=60, help="seconds of the steady-state measurement")
    parser.add_argument("--converge-timeout", type=float, default=1800)
    parser.add_argument("--operator-src", type=Path, default=None, help="another checkout's operator/ dir")
    parser.add_argument("--output", type=Path, default=Path("bench/results") / f"load-{stamp}.json")
    return parser.parse_args(argv)


# -- what is measured ---------------------------------------------------------------------------


def _apiserver_requests(plane: ControlPlane) -> dict[str, float]:
    """apiserver_request_total summed by `resource[/subresource] VERB` (all codes)."""
    context = ssl.create_default_context(cafile=str(plane.ca_path))
    request = urllib.request.Request(
        plane.server + "/metrics", headers={"Authorization": f"Bearer {plane.admin_token}"}
    )
    with urllib.request.urlopen(request, context=context, timeout=30) as response:
        text = response.read().decode()
    totals: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        if family.name != "apiserver_request":
            continue
        for sample in family.samples:
            if not sample.name.endswith("_total"):
                continue
            labels = sample.labels
            resource = labels.get("resource", "") + (
                f"/{labels['subresource']}" if labels.get("subresource") else ""
            )
            key = f"{resource} {labels.get('verb', '')}"
            totals[key] = totals.get(key, 0.0) + sample.value
    return totals


def _operator_metrics(port: int) -> dict[str, float]:
    """The reconcile histogram's cumulative buckets (`le` -> count) and its count and sum."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        text = response.read().decode()
    found: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        if family.name != "ferry_migration_reconcile_seconds":
            continue
        for sample in family.samples:
            if sample.name.endswith("_bucket"):
                found[sample.labels["le"]] = sample.value
            elif sample.name.endswith("_count"):
                found["count"] = sample.value
            elif sample.name.endswith("_sum"):
                found["sum"] = sample.value
    return found


def _percentile(buckets: dict[str, float], q: float) -> float | None:
    """The q-quantile from cumulative buckets, linear within the bucket it falls in."""
    bounds = sorted((float(le), count) for le, count in buckets.items() if le not in ("count", "sum"))
    total = bounds[-1][1] if bounds else 0
    if total <= 0:
        return None
    rank, previous_bound, previous_count = q * total, 0.0, 0.0
    for bound, count in bounds:
        if count >= rank:
            if bound == float("inf"):
                return previous_bound
            share = (rank - previous_count) / (count - previous_count) if count > previous_count else 1.0
            return previous_bound + share * (bound - previous_bound)
        previous_bound, previous_count = bound, count
    return previous_bound


def _process(pid: int) -> tuple[float, int]:
    """CPU seconds (user + system) and RSS in bytes of a process."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    rss = next(
        int(line.split()[1]) * 1024
        for line in Path(f"/proc/{pid}/status").read_text().splitlines()
        if line.startswith("VmRSS:")
    )
    return cpu, rss


def _delta(after: dict[str, float], before: dict[str, float]) -> dict[str, float]:
    return {k: after[k] - before.get(k, 0.0) for k in after if after[k] - before.get(k, 0.0) > 0}


class Sample:
    def __init__(self, plane: ControlPlane, operator: OperatorProcess) -> None:
        assert operator.process is not None and operator.metrics_port is not None
        self.at = time.monotonic()
        self.requests = _apiserver_requests(plane)
        self.cpu, self.rss = _process(operator.process.pid)
        self.reconciles = _operator_metrics(operator.metrics_port)

    def since(self, before: Sample) -> dict[str, Any]:
        seconds = self.at - before.at
        requests = _delta(self.requests, before.requests)
        reconciles = _delta(self.reconciles, before.reconciles)
        ferry = {k: v for k, v in requests.items() if k.split(" ")[0].split("/")[0] in FERRY_RESOURCES}
        return {
            "seconds": round(seconds, 1),
            "apiserver_requests_per_second": round(sum(requests.values()) / seconds, 2),
            "ferry_resource_requests_per_second": round(sum(ferry.values()) / seconds, 2),
            "requests_by_resource_verb": {
                k: int(v) for k, v in sorted(requests.items(), key=lambda kv: -kv[1])
            },
            "operator_cpu_seconds_per_second": round((self.cpu - before.cpu) / seconds, 3),
            "operator_rss_mb": round(self.rss / 2**20, 1),
            "reconcile_steps": int(reconciles.get("count", 0)),
            "reconcile_seconds": {
                f"p{int(q * 100)}": _round(_percentile(reconciles, q)) for q in (0.5, 0.9, 0.99)
            },
        }


FERRY_RESOURCES = {"migrations", "databaseconnections", "projects"}


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


# -- the scenario -----------------------------------------------------------------------------------


def _secret_and_connections(api: client.ApiClient, namespace: str, count: int, src: Any, dst: Any) -> None:
    client.CoreV1Api(api).create_namespaced_secret(
        namespace,
        {"metadata": {"name": "creds"}, "stringData": {"username": src.user, "password": src.password}},
    )
    custom = client.CustomObjectsApi(api)
    for i in range(count):
        db = src if i % 2 == 0 else dst
        name = f"src-{i // 2}" if i % 2 == 0 else f"dst-{i // 2}"
        spec = {
            "engine": "postgresql", "host": db.host, "port": db.port, "database": db.name,
            "credentialsSecretRef": {"name": "creds"}, "healthCheck": {"intervalSeconds": 30},
        }  # fmt: skip
        body = {"apiVersion": "ferry.dev/v1alpha1", "kind": "DatabaseConnection", "metadata": {"name": name}}
        custom.create_namespaced_custom_object("ferry.dev", "v1alpha1", namespace, "databaseconnections",
                                               {**body, "spec": spec})  # fmt: skip


def _migration(index: int, pair: int) -> tuple[str, dict[str, Any]]:
    kind = KINDS[index % 3]
    spec: dict[str, Any] = {
        "source": {"connectionRef": {"name": f"src-{pair}" if kind != "failing" else "missing"}},
        "target": {"connectionRef": {"name": f"dst-{pair}"}, "schema": f"m{index}"},
        "copy": {"parallelism": 1},
    }
    if kind == "awaiting":
        spec["rollback"] = {"onDelete": "truncate"}
    return kind, spec


class StatusWatch:
    """Counts the Migrations' changes during the window: by kind, and which top-level status
    fields changed (what the operator's and the workers' patches actually altered)."""

    def __init__(self, api: client.ApiClient, kinds: dict[tuple[str, str], str]) -> None:
        self.api, self.kinds = api, kinds
        self.changes: dict[str, int] = {}
        self.fields: dict[str, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> StatusWatch:
        self._thread.start()
        return self

    def stop(self) -> dict[str, Any]:
        self._stop.set()
        self._thread.join(timeout=15)
        return {"modified_by_kind": self.changes, "changed_status_fields": self.fields}

    def _run(self) -> None:
        custom = client.CustomObjectsApi(self.api)
        listing = custom.list_cluster_custom_object("ferry.dev", "v1alpha1", "migrations")
        last = {
            (i["metadata"]["namespace"], i["metadata"]["name"]): i.get("status") or {}
            for i in listing["items"]
        }
        stream = watch.Watch()
        for event in stream.stream(
            custom.list_cluster_custom_object, "ferry.dev", "v1alpha1", "migrations",
            resource_version=listing["metadata"]["resourceVersion"], timeout_seconds=600,
        ):  # fmt: skip
            if self._stop.is_set():
                stream.stop()
                return
            obj = event["object"]
            key = (obj["metadata"]["namespace"], obj["metadata"]["name"])
            if event["type"] != "MODIFIED" or key not in self.kinds:
                continue
            kind = self.kinds[key]
            self.changes[kind] = self.changes.get(kind, 0) + 1
            status, before = obj.get("status") or {}, last.get(key, {})
            for field in set(status) | set(before):
                now, then = status.get(field), before.get(field)
                if now == then:
                    continue
                self.fields[f"{kind}:{field}"] = self.fields.get(f"{kind}:{field}", 0) + 1
                if isinstance(now, dict) and isinstance(then, dict):
                    for sub in set(now) | set(then):
                        if now.get(sub) != then.get(sub):
                            name = f"{kind}:{field}.{sub}"
                            self.fields[name] = self.fields.get(name, 0) + 1
            last[key] = status


def _phases(api: client.ApiClient, namespaces: list[str]) -> dict[tuple[str, str], str]:
    custom, found = client.CustomObjectsApi(api), {}
    for namespace in namespaces:
        for item in custom.list_namespaced_custom_object("ferry.dev", "v1alpha1", namespace, "migrations")[
            "items"
        ]:
            found[(namespace, item["metadata"]["name"])] = (item.get("status") or {}).get("phase", "")
    return found


def run(args: argparse.Namespace) -> dict[str, Any]:
    base = Path(tempfile.mkdtemp(prefix="ferry-load-"))
    plane = ControlPlane(base / "kube").start()
    pg = PostgresServer(
        Path(tempfile.mkdtemp(prefix="ferry-load-pg-")), settings={"max_connections": "400"}
    ).start()
    api = api_client(plane.server, plane.ca_path, plane.admin_token)
    runner: PodRunner | None = None
    operator: OperatorProcess | None = None
    try:
        apply_crds(api, load_crds((REPO / "crds").glob("*.yaml")))
        src, dst = items_databases(pg, 100)
        runner = PodRunner(api, plane.server, plane.ca_path, base_dir=base / "pods").start()
        port = free_port()
        env = {"PYTHONPATH": str(args.operator_src)} if args.operator_src else {}
        operator = OperatorProcess(plane.kubeconfig_path, base / "operator.log",
                                   argv=[*OPERATOR_ARGV, "--metrics-port", str(port)], env=env)  # fmt: skip
        operator.metrics_port = port
        operator.start()
        time.sleep(5)  # the operator is up and its watches are open
        start = Sample(plane, operator)

        namespaces = [create_namespace(api, "load") for _ in range(args.namespaces)]
        per_ns_conn = args.connections // args.namespaces
        pairs = max(per_ns_conn // 2, 1)
        kinds: dict[tuple[str, str], str] = {}
        custom = client.CustomObjectsApi(api)
        created = time.monotonic()
        for n, namespace in enumerate(namespaces):
            _secret_and_connections(api, namespace, per_ns_conn, src, dst)
            for index in range(n, args.migrations, args.namespaces):
                kind, spec = _migration(index, index % pairs)
                name = f"mig-{index}"
                body = {"apiVersion": "ferry.dev/v1alpha1", "kind": "Migration", "metadata": {"name": name}}
                custom.create_namespaced_custom_object("ferry.dev", "v1alpha1", namespace, "migrations",
                                                       {**body, "spec": spec})  # fmt: skip
                kinds[(namespace, name)] = kind

        def converged() -> tuple[bool, dict[str, int]]:
            phases = _phases(api, namespaces)
            counts: dict[str, int] = {}
            for key, phase in phases.items():
                counts[f"{kinds[key]}:{phase or 'none'}"] = (
                    counts.get(f"{kinds[key]}:{phase or 'none'}", 0) + 1
                )
            ok = all(phases.get(key) == EXPECTED[kind] for key, kind in kinds.items())
            return ok, counts

        counts = _wait(converged, args.converge_timeout)
        converge = Sample(plane, operator)
        converge_seconds = time.monotonic() - created
        watching = StatusWatch(api, kinds).start()
        time.sleep(args.window)
        steady = Sample(plane, operator).since(converge)
        steady["migration_changes"] = watching.stop()
        return {
            "scenario": {
                "migrations": args.migrations,
                "connections": args.namespaces * per_ns_conn,
                "namespaces": args.namespaces,
                "kinds": {k: sum(1 for v in kinds.values() if v == k) for k in KINDS},
                "operator_src": str(args.operator_src or REPO / "operator"),
            },
            "converge": {"seconds": round(converge_seconds, 1), "phases": counts, **converge.since(start)},
            "steady": steady,
            "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        }
    finally:
        if operator is not None:
            operator.stop()
        if runner is not None:
            runner.stop()
        api.close()
        pg.stop()
        plane.cleanup()


def _wait(check: Callable[[], tuple[bool, dict[str, int]]], timeout: float) -> dict[str, int]:
    deadline = time.monotonic() + timeout
    counts: dict[str, int] = {}
    while time.monotonic() < deadline:
        ok, counts = check()
        if ok:
            return counts
        time.sleep(2)
    raise TimeoutError(f"the Migrations did not converge in {timeout:g}s: {counts}")


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    result = run(args)
    write_result(args.output, result, "converge")
    return 0


if __name__ == "__main__":
    sys.exit(main())
