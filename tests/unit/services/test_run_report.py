"""The run report: written once when a run ends or a started one is deleted, and what it holds."""

from __future__ import annotations

import dataclasses
import json

from ferry.api.migration import Phase
from ferry.api.migration_validation import ValidationWorkerStatus
from ferry.copy.validate import TableValidation
from ferry.kube.report_document import same_plan, with_kept_plan
from ferry.kube.report_markdown import render_markdown
from ferry.kube.run_report import REPORT_JSON, build_report_configmap
from ferry.services.approvals import Approval, ApprovalsRead
from ferry.services.migration import MigrationReconciler
from ferry.services.migration_ports import JobState, MigrationContext
from ferry.services.validation import ValidationReport
from unit.services.fake_ports import FakePorts, context, drop_column, plan, spec
from unit.services.test_migration_reconciler import _to_running, _to_validating

TRANSFORMS = {"tables": {"overrides": [{"name": "orders", "transforms": [
    {"column": "email", "type": "hash", "keySecretRef": {"name": "pii-key", "key": "k"}}]}]}}  # fmt: skip


def test_a_succeeded_run_is_reported_once_with_plan_approvals_tables_and_transforms() -> None:
    table = TableValidation("public.orders", 1000, 1000, checksum_match=True)
    ports = FakePorts(validation=ValidationReport([table], {"public.orders": "ok"}))
    ctx = dataclasses.replace(context(spec(**TRANSFORMS)), author="dev")
    _to_validating(ports, ctx)
    MigrationReconciler(ports).reconcile(ctx)  # creates the validation Job
    assert ports.reports == []
    MigrationReconciler(ports).reconcile(ctx)
    assert ctx.status.phase == Phase.SUCCEEDED
    [report] = ports.reports
    assert ctx.status.report == "ferry-report-shop-uid-1"
    assert report["migration"] == {"name": "shop", "namespace": "team-a", "uid": "uid-1", "generation": 1,
                                   "author": "dev"}  # fmt: skip
    assert report["outcome"]["phase"] == "Succeeded" and report["outcome"]["attempts"] == 1
    assert report["plan"]["hash"] == ctx.status.plan.hash  # type: ignore[union-attr]
    assert report["tables"][0]["validation"] == "ok"
    # Every phase with its start and end; the final one is open.
    phases = [(p["phase"], p["endedAt"] is None) for p in report["phases"]]
    assert phases[-3:] == [("Running", False), ("Validating", False), ("Succeeded", True)]
    assert all(isinstance(p["seconds"], int) for p in report["phases"][:-1])
    assert report["transforms"] == [
        {"table": "orders", "column": "email", "type": "hash", "keySecret": "pii-key"}
    ]
    MigrationReconciler(ports).reconcile(ctx)
    assert len(ports.reports) == 1  # once per run


def test_the_approvers_counted_are_in_the_report() -> None:
    planned = plan(drop_column())
    ports = FakePorts(planned=planned)
    ports.approvals_ = ApprovalsRead((Approval("a1", "ann", (), planned.plan.hash),), verified=True)
    ctx = context()
    _to_running(ports, ctx)
    ctx.status.phase = Phase.FAILED  # however it ended
    MigrationReconciler(ports).reconcile(ctx)
    [report] = ports.reports
    assert [(a["approver"], a["counted"]) for a in report["approvals"]] == [("ann", True)]


def test_a_started_run_deleted_before_its_end_is_reported() -> None:
    ports, ctx = FakePorts(), context()
    _to_running(ports, ctx)
    MigrationReconciler(ports).finalize(ctx)
    [report] = ports.reports
    assert report["outcome"]["phase"] == "Running"
    assert report["phases"][-1]["phase"] == "Running" and report["phases"][-1]["endedAt"] is not None


def test_the_configmap_outlives_the_migration_and_keeps_the_script() -> None:
    report = {"kind": "MigrationRunReport", "outcome": {"phase": "Succeeded"},
              "migration": {"name": "shop", "namespace": "team-a", "uid": "0123456789abcdef"},
              "source": {"connection": "src"}, "target": {"connection": "dst"}}  # fmt: skip
    configmap = build_report_configmap(
        "team-a", "shop", "0123456789abcdef", report, {"plan.sql": "CREATE TABLE t (id int);\n"}
    )
    meta = configmap["metadata"]
    assert meta["name"] == "ferry-report-shop-01234567"
    assert "ownerReferences" not in meta  # garbage collection would delete it with the Migration
    assert meta["labels"]["ferry.dev/report"] == "true" and meta["labels"]["ferry.dev/migration"] == "shop"
    assert json.loads(configmap["data"][REPORT_JSON]) == report
    assert configmap["data"]["plan.sql"] == "CREATE TABLE t (id int);\n"
    assert configmap["data"]["report.md"].startswith("# Run report: team-a/shop")


def test_a_failed_run_reports_its_errors() -> None:
    ports, ctx = FakePorts(), context()
    _to_running(ports, ctx)
    ctx.status.phase = Phase.FAILED
    ctx.status.message = "copy failed: table public.orders: connection refused"
    MigrationReconciler(ports).reconcile(ctx)
    [report] = ports.reports
    assert report["errors"] == ["copy failed: table public.orders: connection refused"]


def test_the_kept_plan_completes_the_report_only_when_it_is_the_plan_that_ran() -> None:
    report = {"plan": {"hash": "h1"}}
    snapshots = {"source": [{"schema": "public", "hash": "s1", "normalized": {"tables": {}}}],
                 "target": [{"schema": "public", "hash": "t1", "normalized": {}}]}  # fmt: skip
    kept = {"plan.json": json.dumps({"hash": "h1", "personalData": [{"column": "email"}], "errors": []}),
            "schemas.json": json.dumps(snapshots)}  # fmt: skip
    done = with_kept_plan(report, kept)
    assert done["personalData"] == [{"column": "email"}]
    assert done["schemas"] == {"source": [{"schema": "public", "hash": "s1"}],
                               "target": [{"schema": "public", "hash": "t1"}]}  # fmt: skip
    assert not same_plan({"plan": {"hash": "h2"}}, kept)


def _failed_validation(ports: FakePorts) -> MigrationContext:
    """A copy that completed, then a validation Job (run 1) that runs."""
    ctx = context()
    _to_validating(ports, ctx)
    MigrationReconciler(ports).reconcile(ctx)  # the validation Job is created
    return ctx


def _pod(index: int, state: str, message: str | None = None) -> ValidationWorkerStatus:
    return ValidationWorkerStatus.model_validate(
        {"run": 1, "state": state, "message": message, "pod": f"shop-validate-1-{index}-a"}
    )


def test_a_validation_pods_failures_are_in_the_reports_errors_as_json_and_markdown() -> None:
    ports = FakePorts(validation_job_default=JobState.ACTIVE)
    ctx = _failed_validation(ports)
    # Pod 0 fails (a row value in the driver's text) and the Job starts it again, then pod 1 fails
    # for good: the first pod's entry is overwritten, but the operator saw it on its tick.
    said = 'DataError: invalid input syntax for type integer: "4111 1111"\nDETAIL: more'
    ctx.status.validation_workers = {"0": _pod(0, "failed", said), "1": _pod(1, "running")}
    MigrationReconciler(ports).reconcile(ctx)
    refused = "OperationalError: connection to server at db.example failed: Connection refused"
    ctx.status.validation_workers = {"0": _pod(0, "done"), "1": _pod(1, "failed", refused)}
    ports.validation_jobs["shop-validate-1"] = JobState.FAILED
    MigrationReconciler(ports).reconcile(ctx)
    assert ctx.status.phase == Phase.FAILED
    [report] = ports.reports
    hidden = 'invalid input syntax for type integer: "…"'
    assert report["errors"][1:] == [
        f"validation run 1, pod 0: DataError: {hidden}",
        f"validation run 1, pod 1: {refused}",
    ]
    assert report["errors"][0].startswith("validation Job shop-validate-1 failed: pod 1: OperationalError")
    assert "4111" not in json.dumps(report) and "DETAIL" not in json.dumps(report)
    markdown = render_markdown(report)
    assert f"- validation run 1, pod 0: DataError: {hidden}" in markdown
    assert f"- validation run 1, pod 1: {refused}" in markdown


def test_a_validation_job_that_failed_with_no_pod_report_is_in_the_errors() -> None:
    ports = FakePorts(validation_job_default=JobState.FAILED, job_failure_reason="DeadlineExceeded: too slow")
    ctx = _failed_validation(ports)
    MigrationReconciler(ports).reconcile(ctx)  # killed pods (OOM, SIGKILL): none reported
    [report] = ports.reports
    assert "validation run 1, Job shop-validate-1: DeadlineExceeded: too slow" in report["errors"]
    assert report["validation"]["failures"] == [
        "validation run 1, Job shop-validate-1: DeadlineExceeded: too slow"
    ]


def test_a_repair_writes_the_report_again_with_the_failed_run_and_every_runs_cpu() -> None:
    differs = TableValidation("public.orders", 1000, 990, None, "keys after (200) up to (400)",
                              mismatched_ranges=("public.orders#2/5",))  # fmt: skip
    ports = FakePorts(validation=ValidationReport([differs]))
    ctx = _failed_validation(ports)
    ctx.status.validation_workers = {
        "0": ValidationWorkerStatus(run=1, pod="v1-0", cpu_seconds=1.5, state="done")
    }
    MigrationReconciler(ports).reconcile(ctx)
    assert ctx.status.phase == Phase.FAILED and len(ports.reports) == 1
    first = ctx.status.message or ""

    ctx.spec = ctx.spec.model_copy(
        update={"validation": ctx.spec.validation.model_copy(update={"repair": True})}
    )
    ctx.generation += 1  # kubectl ferry repair
    ports.validation = ValidationReport(
        [TableValidation("public.orders", 1000, 1000, True)], {"public.orders": "ok"}
    )
    MigrationReconciler(ports).reconcile(ctx)  # run 2
    MigrationReconciler(ports).reconcile(ctx)  # its Job is created
    ctx.status.validation_workers = {
        "0": ValidationWorkerStatus(run=2, pod="v2-0", cpu_seconds=1.0, state="done")
    }
    MigrationReconciler(ports).reconcile(ctx)
    assert ctx.status.phase == Phase.SUCCEEDED
    final = ports.reports[-1]
    assert len(ports.reports) == 2 and final["outcome"]["phase"] == "Succeeded"  # the same ConfigMap, again
    assert final["errors"] == [f"validation run 1: {first}"]  # what the repair followed
    assert final["usage"]["validationCpuSeconds"] == 2.5  # both runs' pods, each once
    assert "| worker CPU-seconds | 2.5 (copy 0.0, validation 2.5, follower 0.0) |" in render_markdown(final)
