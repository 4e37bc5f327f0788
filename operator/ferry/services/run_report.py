"""The lasting record of one run of a Migration, written when it ends (Succeeded, Failed, RolledBack).

Events expire after an hour and status is rewritten by the next run or lost with the object;
an auditor asks months later who approved what, what ran and what it protected. The report is
built from what the operator already knows — the spec, the final status, the approvals it
counted — and kept by ferry.kube.run_report in a ConfigMap that is *not* owned by the Migration,
so deleting the Migration leaves it. It holds names (connections, Secrets of transform keys,
tables, columns), counts and hashes; never credentials or row values.
"""

from __future__ import annotations

from typing import Any

from ferry.api import conditions as c
from ferry.api.base import parse_rfc3339, rfc3339
from ferry.api.migration import TERMINAL, Phase
from ferry.api.migration_status import TableState, WorkerState
from ferry.api.phase_history import spans
from ferry.services.migration_ports import MigrationContext, MigrationPorts
from ferry.services.validating import pod_failure

REPORT_KIND = "MigrationRunReport"


def _dump(model: Any) -> Any:
    return model.model_dump(mode="json", by_alias=True, exclude_none=True) if model is not None else None


def run_errors(ctx: MigrationContext) -> list[str]:
    """What went wrong, each once: the outcome's message when the run did not succeed, failed
    workers' and tables' messages, and what failed in its validation runs (failed validation pods,
    a validation Job that failed with no pod report, a run that a repair followed: kept in
    `status.validation.failures`, so a repair that succeeded still shows what it repaired after).
    Status messages hold no secret and no row value (they pass
    ferry.observability.errors.first_line), so neither does this."""
    st = ctx.status
    errors = [st.message] if st.phase != Phase.SUCCEEDED and st.message else []
    errors += [f"worker {index}: {w.message}" for index, w in sorted(st.workers.items())
               if w.state == WorkerState.FAILED and w.message]  # fmt: skip
    errors += [
        f"table {t.name}: {t.validation or 'failed'}" for t in st.tables if t.state == TableState.FAILED
    ]
    errors += st.validation.failures if st.validation else []
    errors += [pod_failure(index, w) for index, w in sorted(st.validation_workers.items())
               if w.state == "failed" and w.message]  # fmt: skip
    return list(dict.fromkeys(errors))


def build_report(ctx: MigrationContext, written_at: str) -> dict[str, Any]:
    spec, st = ctx.spec, ctx.status
    ready = st.condition(c.READY)
    transforms = [
        {"table": override.name, "column": t.column, "type": str(t.type),
         "keySecret": t.key_secret_ref.name if t.key_secret_ref else None}
        for override in spec.tables.overrides for t in override.transforms
    ]  # fmt: skip
    return {
        "kind": REPORT_KIND,
        "writtenAt": written_at,
        "migration": {
            "name": ctx.name,
            "namespace": ctx.namespace,
            "uid": ctx.uid,
            "generation": ctx.generation,
            "author": ctx.author,
        },
        "outcome": {
            "phase": st.phase.value,
            "reason": ready.reason if ready else None,
            "message": st.message,
            "startTime": st.start_time,
            "completionTime": st.completion_time,
            "attempts": st.attempts,
        },
        "errors": run_errors(ctx),
        "mode": spec.mode.value,
        "source": {"connection": spec.source.connection_ref.name, "schema": spec.source.schema_},
        "target": {"connection": spec.target.connection_ref.name, "schema": spec.target.schema_},
        "plan": _dump(st.plan),
        "approvals": [_dump(a) for a in st.approvals],
        "approvedBySpecHash": bool(st.plan and spec.approval.plan_hash == st.plan.hash),
        "effective": _dump(st.effective),
        "transforms": transforms,
        "tables": [_dump(t) for t in st.tables],
        "tablesOmitted": st.tables_omitted,
        # start and end of every phase (the final one open); a deleted run's current one ends now
        "phases": spans(st.phase_history, None if st.phase in TERMINAL else parse_rfc3339(written_at)),
        "progress": _dump(st.progress),
        "validation": _dump(st.validation),
        "replication": _dump(st.replication),
        "cutover": _dump(st.cutover),
        # CPU time of every worker pod by kind (copy, validation, follower): the Project's usage
        "usage": _dump(st.usage),
    }


def record_run(
    ports: MigrationPorts, ctx: MigrationContext, *, save: bool = True, deleted: bool = False
) -> None:
    """Once a run has ended (or a started one is deleted), keep its report where it outlives the
    Migration; tried again on the next reconcile while it could not be written."""
    st = ctx.status
    ended = st.phase in TERMINAL or (deleted and st.start_time is not None)
    if not ended or st.report is not None:
        return
    st.report = ports.write_report(ctx, build_report(ctx, rfc3339(ports.now())))
    if save and st.report is not None:
        ports.save_status(ctx)
