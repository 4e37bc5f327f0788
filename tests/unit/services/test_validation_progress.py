"""The Validating phase shows how far its Job is: the validation pods' reports summed into
`status.validation` on each check, the results' own count once the Job is complete, and a
failed Job's condition names why (the pods' error, else the Job's Failed condition)."""

from __future__ import annotations

from ferry.api import conditions as c
from ferry.api.migration import Phase, TableState, TableStatus, WorkerState, WorkerStatus
from ferry.api.migration_validation import ValidationWorkerStatus
from ferry.copy.validate import TableValidation
from ferry.services.migration import MigrationReconciler
from ferry.services.migration_ports import JobState, MigrationContext
from ferry.services.validating import failure_reasons
from ferry.services.validation import ValidationReport
from unit.services.fake_ports import FakePorts, context


def _validating(ports: FakePorts) -> MigrationContext:
    """A Migration whose copy completed and whose validation Job (run 1) was just created."""
    ctx = context()
    MigrationReconciler(ports).reconcile(ctx)
    ctx.status.workers = {
        "0": WorkerStatus(state=WorkerState.DONE, rows_copied=1000,
                          tables=[TableStatus(name="public.orders", state=TableState.DONE, rows_copied=1000)])
    }  # fmt: skip
    ports.job = JobState.COMPLETE
    MigrationReconciler(ports).reconcile(ctx)  # -> Validating
    MigrationReconciler(ports).reconcile(ctx)  # the validation Job is created
    assert ctx.status.phase == Phase.VALIDATING and ctx.status.validation is not None
    assert ctx.status.validation.job_name == "shop-validate-1"
    return ctx


def _pod(run: int, done: int, share: int, rows: int, state: str = "running", message: str | None = None) -> (
    ValidationWorkerStatus
):  # fmt: skip
    return ValidationWorkerStatus.model_validate(
        {"run": run, "state": state, "rangesTotal": 5, "rangesShare": share, "rangesDone": done,
         "rowsCompared": rows, "message": message}
    )  # fmt: skip


def test_while_the_job_runs_the_pods_reports_of_this_run_are_summed_into_status() -> None:
    ports = FakePorts(validation_job_default=JobState.ACTIVE)
    ctx = _validating(ports)
    v = ctx.status.validation
    assert v is not None and (v.ranges_total, v.progress) == (0, None)  # no pod reported: nothing claimed
    ctx.status.validation_workers = {"0": _pod(1, 1, 3, 20_000), "1": _pod(1, 1, 2, 20_000)}
    MigrationReconciler(ports).reconcile(ctx)
    assert (v.ranges_done, v.ranges_total, v.rows_compared, v.progress) == (2, 5, 40_000, "2/5")
    assert ctx.status.phase == Phase.VALIDATING
    # An entry of an earlier run (a repair's pods overwrite them index by index) counts for nothing.
    ctx.status.validation_workers["1"] = _pod(0, 2, 2, 99_999, state="done")
    MigrationReconciler(ports).reconcile(ctx)
    assert (v.ranges_done, v.ranges_total, v.rows_compared) == (1, 5, 20_000)


def test_a_complete_job_shows_the_counts_of_its_stored_results() -> None:
    report = ValidationReport([TableValidation("public.orders", 1000, 1000, True)], {"public.orders": "ok"})
    report.ranges, report.rows_compared = 5, 1000
    ports = FakePorts(validation=report, validation_job_default=JobState.ACTIVE)
    ctx = _validating(ports)
    ctx.status.validation_workers = {"0": _pod(1, 2, 3, 400)}  # its last report was not the final one
    ports.validation_jobs["shop-validate-1"] = JobState.COMPLETE
    MigrationReconciler(ports).reconcile(ctx)
    v = ctx.status.validation
    assert ctx.status.phase == Phase.SUCCEEDED and v is not None
    assert (v.ranges_done, v.ranges_total, v.rows_compared, v.progress) == (5, 5, 1000, "5/5")


def test_a_failed_job_names_what_its_pods_said() -> None:
    ports = FakePorts(validation_job_default=JobState.FAILED)
    ctx = _validating(ports)
    said = "OperationalError: connection to server at db.example failed: Connection refused"
    ctx.status.validation_workers = {
        "0": _pod(1, 2, 3, 40_000, state="failed", message=said),
        "1": _pod(1, 1, 2, 20_000, state="failed", message=said),
    }
    MigrationReconciler(ports).reconcile(ctx)
    ready = ctx.status.condition(c.READY)
    assert ready is not None and ready.reason == c.VALIDATION_FAILED
    assert ready.message.startswith(f"validation Job shop-validate-1 failed: pods 0, 1: {said}; ")
    assert "3 of 5 key ranges were compared" in ready.message
    assert "kubectl logs -n team-a job/shop-validate-1" in ready.message


def test_a_failed_job_whose_pods_could_not_say_names_the_jobs_failed_condition() -> None:
    ports = FakePorts(validation_job_default=JobState.FAILED, job_failure_reason="DeadlineExceeded: too slow")
    ctx = _validating(ports)
    ctx.status.validation_workers = {"0": _pod(1, 1, 3, 20_000)}  # killed (OOM, SIGKILL): no last report
    MigrationReconciler(ports).reconcile(ctx)
    assert (ctx.status.message or "").startswith(
        "validation Job shop-validate-1 failed: DeadlineExceeded: too slow; 1 of 5 key ranges were compared"
    )


def test_failure_reasons_are_first_lines_without_row_values_or_secrets_and_bounded() -> None:
    value = 'invalid input syntax for type integer: "4111 1111"'
    workers = {
        str(i): _pod(1, 0, 1, 0, state="failed", message=f"DataError {i}: {value}\nDETAIL: more")
        for i in range(5)
    }
    said = failure_reasons(1, workers)
    hidden = 'invalid input syntax for type integer: "…"'
    assert said.startswith(f"pod 0: DataError 0: {hidden}; pod 1: DataError 1: {hidden}; pod 2")
    assert said.endswith("; and 2 more") and "4111" not in said and "DETAIL" not in said
    assert failure_reasons(2, workers) == ""  # another run's pods
