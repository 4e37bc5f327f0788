"""The Validating phase in the cluster: one validation Job per run, its results read back.

The operator does not compare rows. It creates the run's validation Job (a deterministic name
per run, so an operator restart adopts it instead of creating a second), waits for it, and
reads what its pods stored on the target (ferry.services.validation.read_validation). A run is
one Job: the first after the copy, and one more each time a repair is asked for on a Migration
whose validation found differing key ranges (`kubectl ferry repair`, which sets
spec.validation.repair): that run copies those ranges again and validates again.
"""

from __future__ import annotations

from ferry.api import conditions as c
from ferry.api.migration import MigrationSpec, Phase, StatusEvent, TableState
from ferry.api.migration_validation import (
    MAX_LISTED_FAILURES,
    MAX_LISTED_RANGES,
    ValidationStatus,
    ValidationWorkerStatus,
)
from ferry.observability.errors import first_line
from ferry.schema import ApplyError
from ferry.services.fk_deferral import RestoreError
from ferry.services.migration_ports import JobState, MigrationContext, MigrationPorts, Sides
from ferry.services.outcome import Outcome
from ferry.services.pod_usage import refresh_usage
from ferry.services.validation import IncompleteValidation, ValidationReport

WAIT_SECONDS = 2.0


class ValidationStopped(Exception):
    """Validation cannot give a report: completing the target failed, or the validation Job did.
    `restore`: whether the failure may still put foreign keys set aside for the load back."""

    def __init__(self, message: str, restore: bool = True) -> None:
        super().__init__(message)
        self.restore = restore


def validation_status(ctx: MigrationContext) -> ValidationStatus:
    st = ctx.status
    if st.validation is None:
        st.validation = ValidationStatus()
    st.validation.run = max(st.validation.run, 1)
    return st.validation


def job_started(ctx: MigrationContext) -> bool:
    """Whether this run's Job was created: the target was completed (keys, indexes, foreign
    keys) before it, and is not completed again on every check."""
    return ctx.status.validation is not None and ctx.status.validation.job_name is not None


def report(
    ports: MigrationPorts, ctx: MigrationContext, spec: MigrationSpec, sides: Sides, out: Outcome
) -> ValidationReport | None:
    """The run's report once its Job is complete; None while it runs (the Job is created or
    created again when missing, and `out` asks to be called again). Before the first Job of a
    run, the target is completed (keys, indexes, foreign keys: the ordered reads use the key);
    that is idempotent after a restart. Raises ValidationStopped."""
    try:
        if not job_started(ctx):
            ports.complete_target(spec, sides, ctx.uid, ctx.status.created_tables)
        return _job_report(ports, ctx, spec, sides, out)
    except RestoreError as exc:
        raise ValidationStopped(f"{exc}; it stays recorded", restore=False) from exc
    except ApplyError as exc:
        raise ValidationStopped(f"building keys and indexes failed: {first_line(exc)}") from exc


def _job_report(
    ports: MigrationPorts, ctx: MigrationContext, spec: MigrationSpec, sides: Sides, out: Outcome
) -> ValidationReport | None:
    if not (spec.validation.row_count or spec.validation.checksum):
        return ValidationReport([], skipped=True)
    v = validation_status(ctx)
    state = ports.job_state(ctx.namespace, v.job_name) if v.job_name else JobState.MISSING
    if state == JobState.MISSING:
        v.job_name = ports.create_validation_job(ctx, spec, v.run)
        out.requeue_after = WAIT_SECONDS
        return None
    if state != JobState.ACTIVE:  # its pods' last reports, which this tick's status may predate
        ctx.status.validation_workers.update(ports.validation_workers(ctx))
        refresh_usage(ctx.status)
    note_failures(v, ctx.status.validation_workers)  # a failed pod the Job retries is replaced
    if state == JobState.ACTIVE:
        refresh_progress(v, ctx.status.validation_workers)
        out.requeue_after = WAIT_SECONDS
        return None
    if state == JobState.FAILED:
        refresh_progress(v, ctx.status.validation_workers)
        why = failure_reasons(v.run, ctx.status.validation_workers)
        if not why:  # no pod could say (killed, out of memory): the Job's Failed condition
            why = ports.job_failure(ctx.namespace, v.job_name or "")
            note(v, f"validation run {v.run}, Job {v.job_name}: {why}")
        compared = f"; {v.ranges_done} of {v.ranges_total} key ranges were compared" if v.ranges_total else ""
        raise ValidationStopped(
            f"validation Job {v.job_name} failed: {why}{compared}; its pods' logs say more "
            f"(kubectl logs -n {ctx.namespace} job/{v.job_name})"
        )
    try:
        result = ports.validation_results(ctx, spec, sides, v.run)
    except IncompleteValidation as exc:
        raise ValidationStopped(str(exc)) from exc
    _set_progress(v, result.ranges, result.ranges, result.rows_compared)
    v.mismatched_ranges = result.mismatched[:MAX_LISTED_RANGES]
    v.repaired_ranges = result.repaired[:MAX_LISTED_RANGES]
    v.repaired_total = len(result.repaired)
    return result


def _set_progress(v: ValidationStatus, done: int, total: int, rows: int) -> None:
    v.ranges_done, v.ranges_total, v.rows_compared = done, total, rows
    v.progress = f"{done}/{total}" if total else None


def refresh_progress(v: ValidationStatus, workers: dict[str, ValidationWorkerStatus]) -> None:
    """The pods' reports of this run summed into `v`. Every pod plans the same ranges, so any
    one that reported gives the run's total; pods that have not reported yet add nothing."""
    mine = [w for w in workers.values() if w.run == v.run]
    if not mine:
        return
    total = max(w.ranges_total for w in mine)
    done = min(sum(w.ranges_done for w in mine), total)
    _set_progress(v, done, total, sum(w.rows_compared for w in mine))


def failure_reasons(run: int, workers: dict[str, ValidationWorkerStatus]) -> str:
    """What the failed pods of this run said (their error's class and first line), de-duplicated."""
    pods: dict[str, list[str]] = {}
    for index, w in sorted(workers.items(), key=lambda item: int(item[0]) if item[0].isdigit() else 0):
        if w.run == run and w.state == "failed" and w.message:
            pods.setdefault(first_line(w.message), []).append(index)
    said = [f"{'pods' if len(i) > 1 else 'pod'} {', '.join(i)}: {m}" for m, i in sorted(pods.items())]
    return "; ".join(said[:3]) + (f"; and {len(said) - 3} more" if len(said) > 3 else "")


def pod_failure(index: str, w: ValidationWorkerStatus) -> str:
    """One failed validation pod as the run report's errors list it (its error's class and first
    line, as it reported them: redacted, no row values)."""
    return first_line(f"validation run {w.run}, pod {index}: {w.message}")


def note(v: ValidationStatus, failure: str) -> None:
    """Keep `failure` in `v.failures` (each once, the first MAX_LISTED_FAILURES)."""
    failure = first_line(failure)
    if failure not in v.failures and len(v.failures) < MAX_LISTED_FAILURES:
        v.failures = [*v.failures, failure]


def note_failures(v: ValidationStatus, workers: dict[str, ValidationWorkerStatus]) -> None:
    """The failed pods' reports, kept: the pod the Job starts again at that index overwrites the
    entry, and a repair's run starts after the run that failed."""
    for index, w in sorted(workers.items()):
        if w.state == "failed" and w.message:
            note(v, pod_failure(index, w))


def record(ctx: MigrationContext, result: ValidationReport) -> bool:
    """Each table's validation into its status entry (VALIDATED when all is well); whether it is."""
    for table in ctx.status.tables:
        table.validation = result.per_table.get(table.name, table.validation)
        table.checksum = result.checksums.get(table.name, table.checksum)
        if table.state == TableState.DONE and result.ok and not result.skipped:
            table.state = TableState.VALIDATED
    return result.ok


def repair_hint(ctx: MigrationContext, spec: MigrationSpec, result: ValidationReport) -> str:
    """How to copy the differing ranges again, when there are some and nobody asked yet."""
    if not result.mismatched or spec.validation.repair:
        return ""
    return (
        f"; copy the differing key ranges again with: kubectl ferry repair mig/{ctx.name} -n {ctx.namespace}"
    )


def repair_requested(ctx: MigrationContext) -> bool:
    """A Migration that failed on differing key ranges, whose spec now asks for a repair (a spec
    change since the failure: a repair that failed again is not retried until the next one)."""
    st, v = ctx.status, ctx.status.validation
    ready = st.condition(c.READY)
    return (
        st.phase == Phase.FAILED
        and ready is not None
        and ready.reason == c.VALIDATION_FAILED
        and v is not None
        and bool(v.mismatched_ranges)
        and ctx.spec.validation.repair
        and st.observed_generation != ctx.generation
    )


def start_repair(ctx: MigrationContext) -> StatusEvent | None:
    """Back to Validating with the next run, whose Job repairs and validates again."""
    st = ctx.status
    v = validation_status(ctx)
    note(v, f"validation run {v.run}: {st.message or 'failed'}")  # the report is written again at the end
    st.report = None  # the repair's run ends the run: its report replaces the one of the failure
    ranges = len(v.mismatched_ranges)
    v.run, v.job_name, v.repair_generation = v.run + 1, None, ctx.generation
    v.mismatched_ranges, v.repaired_ranges, v.repaired_total = [], [], 0
    _set_progress(v, 0, 0, 0)
    st.completion_time = None
    message = f"repairing the differing key ranges ({ranges} or more) and validating again (run {v.run})"
    return st.mark_validating(ctx.generation, message)
