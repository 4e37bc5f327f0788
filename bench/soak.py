"""`make soak`: Migrations cycling create -> run -> delete for a long time, with the operator.

    PYTHONPATH=tests:operator python -m bench.soak [--migrations 20] [--duration 1800]
        [--sample 10] [--output bench/results/soak-<ts>.json]

Starts the control plane, one PostgreSQL server, the pod runner and `ferry operator`, then keeps
`--migrations` slots busy for `--duration` seconds: each slot creates its Migration (the same
name every cycle, so every cycle also creates a Migration again under a name whose Job may not be
collected yet), waits until it Succeeded (a real copy of a 1000-row table by a worker pod, into
a schema of its own per cycle), deletes it and waits until it is gone, and starts over. Every
`--sample` seconds it records the operator's RSS and CPU and the Jobs and pods that exist. At
the end it waits for the garbage collector and counts what leaked: Migrations, Jobs, pods,
replication slots on the source, checkpoint rows on the target. Written to JSON like `make load`;
the RSS trend is the slope of a least-squares line over the second half of the cycling time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import psycopg
from kubernetes import client

from bench.load import _process
from bench.scenario import items_databases, write_result
from harness.controlplane import ControlPlane
from harness.databases import Database, PostgresServer
from harness.kube import api_client, apply_crds, create_namespace, load_crds
from harness.operator_process import OPERATOR_ARGV, OperatorProcess
from harness.podrunner import PodRunner
from harness.processes import free_port

REPO = Path(__file__).resolve().parents[1]
GROUP, VERSION = "ferry.dev", "v1alpha1"


def _args(argv: list[str] | None) -> argparse.Namespace:
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    parser = argparse.ArgumentParser(prog="bench.soak", description=__doc__.split("\n\n")[0])
    parser.add_argument("--migrations", type=int, default=20, help="slots cycling at once")
    parser.add_argument("--duration", type=float, default=1800, help="seconds of cycling")
    parser.add_argument("--sample", type=float, default=10, help="seconds between samples")
    parser.add_argument("--output", type=Path, default=Path("bench/results") / f"soak-{stamp}.json")
    return parser.parse_args(argv)


def _setup_namespace(api: client.ApiClient, src: Database, dst: Database) -> str:
    namespace = create_namespace(api, "soak")
    client.CoreV1Api(api).create_namespaced_secret(
        namespace,
        {"metadata": {"name": "creds"}, "stringData": {"username": src.user, "password": src.password}},
    )
    custom = client.CustomObjectsApi(api)
    for name, db in (("src", src), ("dst", dst)):
        spec = {"engine": "postgresql", "host": db.host, "port": db.port, "database": db.name,
                "credentialsSecretRef": {"name": "creds"}, "healthCheck": {"intervalSeconds": 30},
                }  # fmt: skip
        custom.create_namespaced_custom_object(GROUP, VERSION, namespace, "databaseconnections", {
            "apiVersion": f"{GROUP}/{VERSION}", "kind": "DatabaseConnection", "metadata": {"name": name},
            "spec": spec})  # fmt: skip
    return namespace


class Slot(threading.Thread):
    """One Migration name, cycled until the deadline; keeps each cycle's seconds and any error."""

    def __init__(self, api: client.ApiClient, namespace: str, index: int, deadline: float) -> None:
        super().__init__(daemon=True)
        self.custom = client.CustomObjectsApi(api)
        self.namespace, self.index, self.deadline = namespace, index, deadline
        self.name = f"soak-{index}"
        self.cycles: list[float] = []
        self.errors: list[str] = []

    def run(self) -> None:
        cycle = 0
        while time.monotonic() < self.deadline and len(self.errors) < 3:
            started = time.monotonic()
            try:
                self._cycle(cycle)
                self.cycles.append(time.monotonic() - started)
            except Exception as exc:  # recorded; the Migration is deleted and the soak goes on
                self.errors.append(f"cycle {cycle}: {exc}"[:500])
                self._delete_quietly()
            cycle += 1

    def _cycle(self, cycle: int) -> None:
        spec = {"source": {"connectionRef": {"name": "src"}},
                "target": {"connectionRef": {"name": "dst"}, "schema": f"s{self.index}_{cycle}"},
                "copy": {"parallelism": 1}}  # fmt: skip
        body = {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Migration", "metadata": {"name": self.name},
                "spec": spec}  # fmt: skip
        self.custom.create_namespaced_custom_object(GROUP, VERSION, self.namespace, "migrations", body)
        phase = self._wait(lambda obj: (obj.get("status") or {}).get("phase") in {"Succeeded", "Failed"}, 300)
        if phase != "Succeeded":
            raise RuntimeError(f"ended {phase}")
        self.custom.delete_namespaced_custom_object(GROUP, VERSION, self.namespace, "migrations", self.name)
        self._wait(lambda obj: False, 120)

    def _delete_quietly(self) -> None:
        try:
            custom, namespace = self.custom, self.namespace
            custom.delete_namespaced_custom_object(GROUP, VERSION, namespace, "migrations", self.name)
            self._wait(lambda obj: False, 120)
        except Exception as exc:
            self.errors.append(f"delete after the error: {exc}"[:500])

    def _wait(self, done: Any, timeout: float) -> str | None:
        """Poll until `done(obj)` (returns the phase) or the Migration is gone (returns None)."""
        limit = time.monotonic() + timeout
        while time.monotonic() < limit:
            try:
                obj = self.custom.get_namespaced_custom_object(GROUP, VERSION, self.namespace, "migrations",
                                                               self.name)  # fmt: skip
            except client.ApiException as exc:
                if exc.status == 404:
                    return None
                raise
            if done(obj):
                return str((obj.get("status") or {}).get("phase"))
            time.sleep(1)
        raise TimeoutError(f"{self.name}: not done after {timeout:g}s")


def _slope_mb_per_hour(samples: list[dict[str, Any]], duration: float) -> float | None:
    """The RSS trend while Migrations cycled (the samples of the drain after it are left out),
    over the second half of that time: the first half is warm-up (caches, indexes, clients)."""
    cycling = [s for s in samples if s["t"] <= duration]
    half = cycling[len(cycling) // 2 :]
    if len(half) < 3:
        return None
    xs, ys = [s["t"] for s in half], [s["rss_mb"] for s in half]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    var = sum((x - mx) ** 2 for x in xs)
    return (
        round(sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / var * 3600, 1) if var else None
    )


def _leaks(
    api: client.ApiClient, namespaces: list[str], pg: PostgresServer, src: Database, dst: Database
) -> dict[str, int]:
    batch, core, custom = client.BatchV1Api(api), client.CoreV1Api(api), client.CustomObjectsApi(api)
    found = {"migrations": 0, "jobs": 0, "pods": 0}
    for ns in namespaces:
        found["migrations"] += len(
            custom.list_namespaced_custom_object(GROUP, VERSION, ns, "migrations")["items"]
        )
        found["jobs"] += len(batch.list_namespaced_job(ns).items)
        found["pods"] += len(core.list_namespaced_pod(ns).items)
    found["replication_slots"] = _count(src, "SELECT count(*) FROM pg_replication_slots", pg)
    found["checkpoint_rows"] = _count(
        dst, "SELECT CASE WHEN to_regclass('ferry._ferry_checkpoints') IS NULL THEN 0 "
        "ELSE (SELECT count(*) FROM ferry._ferry_checkpoints) END",
    )  # fmt: skip
    return found


def _count(db: Database, query: str, server: PostgresServer | None = None) -> int:
    """One number from a query: as the server's admin when given, else as the database's user."""
    with server.admin(db.name) if server is not None else psycopg.connect(db.libpq_dsn()) as conn:
        row = conn.execute(query).fetchone()
    return int(str(row[0])) if row is not None else -1


def run(args: argparse.Namespace) -> dict[str, Any]:
    base = Path(tempfile.mkdtemp(prefix="ferry-soak-"))
    plane = ControlPlane(base / "kube").start()
    pg = PostgresServer(
        Path(tempfile.mkdtemp(prefix="ferry-soak-pg-")), settings={"max_connections": "300"}
    ).start()
    api = api_client(plane.server, plane.ca_path, plane.admin_token)
    runner: PodRunner | None = None
    operator: OperatorProcess | None = None
    try:
        apply_crds(api, load_crds((REPO / "crds").glob("*.yaml")))
        src, dst = items_databases(pg, 1000)
        runner = PodRunner(api, plane.server, plane.ca_path, base_dir=base / "pods").start()
        port = free_port()
        operator = OperatorProcess(plane.kubeconfig_path, base / "operator.log",
                                   argv=[*OPERATOR_ARGV, "--metrics-port", str(port)])  # fmt: skip
        operator.metrics_port = port
        operator.start()
        time.sleep(5)
        assert operator.process is not None
        namespaces = [_setup_namespace(api, src, dst) for _ in range(2)]
        began = time.monotonic()
        slots = [Slot(api, namespaces[i % 2], i, began + args.duration) for i in range(args.migrations)]
        for slot in slots:
            slot.start()
        samples: list[dict[str, Any]] = []
        batch, core = client.BatchV1Api(api), client.CoreV1Api(api)
        while any(slot.is_alive() for slot in slots):
            cpu, rss = _process(operator.process.pid)
            jobs = sum(len(batch.list_namespaced_job(ns).items) for ns in namespaces)
            pods = sum(len(core.list_namespaced_pod(ns).items) for ns in namespaces)
            samples.append({"t": round(time.monotonic() - began, 1), "rss_mb": round(rss / 2**20, 1),
                            "cpu_s": round(cpu, 1), "jobs": jobs, "pods": pods})  # fmt: skip
            time.sleep(args.sample)
        cycled = time.monotonic() - began
        time.sleep(30)  # the garbage collector removes the last Jobs and pods
        leaks = _leaks(api, namespaces, pg, src, dst)
        cycles = sorted(c for slot in slots for c in slot.cycles)
        curve = [float(s["rss_mb"]) for s in samples]
        return {
            "scenario": {
                "migrations": args.migrations,
                "duration_s": args.duration,
                "namespaces": len(namespaces),
            },
            "cycles": {
                "completed": len(cycles),
                "seconds_p50": round(cycles[len(cycles) // 2], 1) if cycles else None,
                "seconds_p90": round(cycles[int(len(cycles) * 0.9)], 1) if cycles else None,
                "errors": [e for slot in slots for e in slot.errors],
            },
            "cycling_seconds": round(cycled, 1),
            "operator_rss_mb": {
                "first": curve[0],
                "last": curve[-1],
                "max": max(curve),
                "second_half_slope_mb_per_hour": _slope_mb_per_hour(samples, args.duration),
            },
            "operator_cpu_seconds": round(samples[-1]["cpu_s"] - samples[0]["cpu_s"], 1),
            "leaked": leaks,
            "samples": samples,
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


def main(argv: list[str] | None = None) -> int:
    args = _args(argv)
    result = run(args)
    write_result(args.output, result, "samples")
    leaked = {k: v for k, v in result["leaked"].items() if v}
    return 1 if leaked or result["cycles"]["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
