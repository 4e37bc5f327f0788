"""A worker pod evicted mid-copy (the eviction API marks it `DisruptionTarget` and deletes it, as
a node drain or a preemption does): the Job's podFailurePolicy ignores it, so neither the Job's
backoffLimit nor a Migration attempt is spent; the index runs again from its checkpoints."""

from __future__ import annotations

import time

import pytest
from kubernetes import client

from e2e.fault_helpers import ActiveJobWatch, assert_same_rows, copy_jobs, wait_rows
from e2e.migration_helpers import start_migration, wait_for_phase
from harness.databases import Database
from harness.datasets import add_generated_table
from harness.operator_process import OperatorProcess
from harness.podrunner import PodRunner

pytestmark = pytest.mark.faults  # make test-faults: not in the default run


def test_an_evicted_worker_pod_is_not_counted_as_a_failure(
    kube_api: client.ApiClient, namespace: str, operator: OperatorProcess, pod_runner: PodRunner,
    pg_source: Database, pg_db2: Database,
) -> None:  # fmt: skip
    add_generated_table(pg_source, 150_000)
    spec = {
        "source": {"connectionRef": {"name": "src"}},
        "target": {"connectionRef": {"name": "dst"}, "schema": "public"},
        "tables": {"include": ["readings", "artist"]},
        "copy": {"batchSize": 500, "parallelism": 2},
        "validation": {"rowCount": True, "checksum": True},
    }
    core = client.CoreV1Api(kube_api)
    with ActiveJobWatch(kube_api, namespace) as jobs:
        start_migration(kube_api, namespace, "evict", pg_source, pg_db2, spec)
        wait_rows(kube_api, namespace, "evict", 5_000)
        running = [r for r in pod_runner.runs(namespace) if r.exit_code is None and r.process is not None]
        victim = max(running, key=lambda r: r.name)  # any running worker; the name makes it stable
        evicted_at = time.monotonic()
        eviction = {"apiVersion": "policy/v1", "kind": "Eviction",
                    "metadata": {"name": victim.name, "namespace": namespace}}  # fmt: skip
        core.create_namespaced_pod_eviction(victim.name, namespace, eviction)
        victim.finished.wait(60)
        pod_index = victim.name.rsplit("-", 2)[-2]
        done = wait_for_phase(kube_api, namespace, "evict", {"Succeeded"}, timeout=300)
    jobs.assert_never_two()
    replacements = [r for r in pod_runner.runs(namespace) if r.name != victim.name and r.exit_code == 0]
    print(f"evicted pod {victim.name} (index {pod_index}) ended {victim.exit_code}; "
          f"Succeeded {time.monotonic() - evicted_at:.1f}s after the eviction")  # fmt: skip
    assert victim.exit_code == 137, victim.exit_code
    assert len(replacements) >= 2, [r.name for r in pod_runner.runs(namespace)]
    [job] = copy_jobs(kube_api, namespace, "evict")
    assert not job.status.failed, f"the eviction counted as {job.status.failed} failed pod(s)"
    assert done["status"]["attempts"] == 1
    assert_same_rows(pg_source, pg_db2, {"readings": "id", "artist": "artist_id"})
    # The evicted pod's bytes and CPU stay in the run's usage, beside its replacement's (it ran,
    # so it used CPU; it may have read no bytes, its index's share being small).
    status = done["status"]
    earlier, workers = status["earlierPods"], status["workers"].values()
    assert earlier["lastSeen"][pod_index]["pod"] != victim.name
    assert earlier["cpuSeconds"] > 0, earlier
    read = earlier["bytesCopied"] + sum(w["bytesCopied"] for w in workers)
    assert status["progress"]["bytesCopied"] == read
