"""`status.usage`: the CPU time of a run's copy, validation and follower pods, each pod counted
once, replaced pods (a retried index, a repair's run, a new follower attempt) kept."""

from __future__ import annotations

from datetime import timedelta

from ferry.api.migration import MigrationStatus, ReplicationState, ReplicationStatus, WorkerStatus
from ferry.api.migration_validation import ValidationWorkerStatus
from ferry.services.migration import MigrationReconciler
from ferry.services.migration_ports import JobState, MigrationContext
from ferry.services.pod_usage import refresh_usage
from ferry.services.progress import refresh_progress
from unit.services.fake_ports import FakePorts, context, spec


def _check(run: int, pod: str | None, cpu: float, state: str = "running") -> ValidationWorkerStatus:
    return ValidationWorkerStatus.model_validate({"run": run, "pod": pod, "cpuSeconds": cpu, "state": state})


def _figures(status: MigrationStatus) -> tuple[float, float, float, float]:
    u = status.usage
    assert u is not None
    return u.worker_cpu_seconds, u.copy_cpu_seconds, u.validation_cpu_seconds, u.follower_cpu_seconds


def test_validation_pods_replaced_by_a_retry_and_by_a_repair_run_are_counted_once_each() -> None:
    status = MigrationStatus()
    status.workers = {"0": WorkerStatus(pod="copy-0-a", cpu_seconds=4.0)}
    status.validation_workers = {"0": _check(1, "val-1-0-a", 1.0), "1": _check(1, "val-1-1-a", 0.5)}
    refresh_progress(status, finished=True)
    assert _figures(status) == (5.5, 4.0, 1.5, 0.0)

    # Pod 0 failed after 2 s of CPU (its last report) and the Job started it again from 0.
    status.validation_workers["0"] = _check(1, "val-1-0-a", 2.0, "failed")
    refresh_progress(status, finished=True)
    status.validation_workers["0"] = _check(1, "val-1-0-b", 0.25)
    refresh_progress(status, finished=True)
    refresh_progress(status, finished=True)  # ticks with no news count nothing again
    assert _figures(status) == (6.75, 4.0, 2.75, 0.0)

    # A repair's run: new pods at the same indexes; run 1's pods stay counted.
    status.validation_workers = {"0": _check(2, "val-2-0-a", 1.0), "1": _check(2, "val-2-1-a", 1.0)}
    refresh_progress(status, finished=True)
    assert _figures(status) == (4.0 + 2.0 + 0.25 + 0.5 + 1.0 + 1.0, 4.0, 4.75, 0.0)
    assert status.earlier_pods is not None and status.earlier_pods.validation_cpu_seconds == 2.75
    assert status.earlier_pods.cpu_seconds == 0.0  # no copy pod was replaced


def test_follower_pods_replaced_by_retries_are_counted_once_each() -> None:
    status = MigrationStatus(replication=ReplicationStatus(start_position="0/1"))
    refresh_usage(status)
    assert status.usage is None  # no pod reported yet: no field appears
    status.replication = ReplicationStatus(pod="follow-1-a", cpu_seconds=10.0)
    refresh_usage(status)
    status.replication = ReplicationStatus(pod="follow-1-a", cpu_seconds=12.5, state=ReplicationState.FAILED)
    refresh_usage(status)
    status.replication = ReplicationStatus(pod="follow-2-a", cpu_seconds=1.0)
    refresh_usage(status)
    refresh_usage(status)
    assert _figures(status) == (13.5, 0.0, 0.0, 13.5)
    # An older follower image names no pod: its latest figure counts, nothing is carried.
    legacy = MigrationStatus(replication=ReplicationStatus(cpu_seconds=3.0))
    refresh_usage(legacy)
    legacy.replication = ReplicationStatus(cpu_seconds=1.0)
    refresh_usage(legacy)
    assert _figures(legacy) == (1.0, 0.0, 0.0, 1.0) and legacy.earlier_pods is None


def test_a_tick_with_no_news_leaves_the_status_as_it_was() -> None:
    status = MigrationStatus()
    status.validation_workers = {"0": _check(1, "val-1-0-a", 1.0)}
    refresh_usage(status)
    before = status.model_copy(deep=True)
    refresh_usage(status)
    assert status == before


def _through_validation(ports: FakePorts, ctx: MigrationContext) -> None:
    reconciler = MigrationReconciler(ports)
    reconciler.reconcile(ctx)  # Running
    ctx.status.workers = {"0": WorkerStatus(pod="shop-1-0-a", cpu_seconds=3.0, state="done")}
    ports.job = JobState.COMPLETE
    reconciler.reconcile(ctx)  # Validating
    reconciler.reconcile(ctx)  # the validation Job is created
    ctx.status.validation_workers = {"0": _check(1, "shop-validate-1-0-a", 0.75, "done")}


def test_the_reconciler_sums_validation_cpu_into_usage_and_the_run_report() -> None:
    ports = FakePorts(validation_job_default=JobState.ACTIVE)
    ctx = context()
    _through_validation(ports, ctx)
    MigrationReconciler(ports).reconcile(ctx)
    assert _figures(ctx.status) == (3.75, 3.0, 0.75, 0.0)
    ports.validation_jobs["shop-validate-1"] = JobState.COMPLETE
    MigrationReconciler(ports).reconcile(ctx)
    [report] = ports.reports
    assert report["usage"] == {"workerCpuSeconds": 3.75, "copyCpuSeconds": 3.0,
                               "validationCpuSeconds": 0.75, "followerCpuSeconds": 0.0}  # fmt: skip


def test_a_validation_pod_s_last_report_after_the_tick_s_status_is_read_when_the_job_ends() -> None:
    # The pod reports its final figures and exits, the Job completes, and a tick that began with
    # the status from before that report sees the Job complete: the operator reads the pods'
    # entries again, so the run and its report count the final figures.
    ports = FakePorts(validation_job_default=JobState.ACTIVE)
    ctx = context()
    _through_validation(ports, ctx)  # the pod reported 0.75 s while running
    MigrationReconciler(ports).reconcile(ctx)
    ports.fresh_validation_workers = {"0": _check(1, "shop-validate-1-0-a", 1.25, "done")}
    ports.validation_jobs["shop-validate-1"] = JobState.COMPLETE
    MigrationReconciler(ports).reconcile(ctx)
    assert ("validation_workers", "shop") in ports.calls
    assert _figures(ctx.status) == (4.25, 3.0, 1.25, 0.0)
    [report] = ports.reports
    assert report["usage"]["validationCpuSeconds"] == 1.25


def test_the_reconciler_sums_the_followers_cpu_while_following() -> None:
    ports, ctx = FakePorts(), context(spec(mode="online"))
    MigrationReconciler(ports).reconcile(ctx)
    ports.job = JobState.COMPLETE
    MigrationReconciler(ports).reconcile(ctx)  # Following
    ports.job = JobState.ACTIVE
    ctx.status.replication = ReplicationStatus(start_position="0/1", pod="shop-follow-1-a", cpu_seconds=2.0)
    MigrationReconciler(ports).reconcile(ctx)
    ports.clock += timedelta(seconds=40)
    ctx.status.replication = ReplicationStatus(start_position="0/1", pod="shop-follow-1-b", cpu_seconds=0.5)
    MigrationReconciler(ports).reconcile(ctx)
    assert ctx.status.usage is not None and ctx.status.usage.follower_cpu_seconds == 2.5
