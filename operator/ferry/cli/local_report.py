"""`ferry run --report FILE`: the operator's run report (ferry.services.run_report), for a local run.

The same document as the cluster's report ConfigMap: the run is described as a Migration status
(phase, times, the plan's summary, tables with rows, validation and checksum) and passed through
the same builder, completed with the plan's personal data and schema snapshot hashes as the
operator completes it from the plan ConfigMap. FILE ending in `.md` gets the Markdown rendering,
any other name the JSON. Holds no credential and no row value, like the cluster's.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from ferry.api.base import rfc3339
from ferry.api.migration import MigrationStatus, Phase
from ferry.api.migration_status import TableState, TableStatus
from ferry.cli.local_steps import Prepared
from ferry.copy import UnitResults
from ferry.kube.plan_configmap import PLAN_JSON, SCHEMAS_JSON
from ferry.kube.report_document import with_kept_plan
from ferry.kube.report_markdown import render_markdown
from ferry.observability.redaction import redact
from ferry.schema.plan_script import plan_script
from ferry.services.migration_ports import MigrationContext
from ferry.services.run_report import build_report
from ferry.services.validation import ValidationReport


def _tables(results: UnitResults | None, validation: ValidationReport | None) -> list[TableStatus]:
    rows: dict[str, int] = {}
    failed: set[str] = set()
    for unit in results.results if results else ():
        rows[unit.table] = rows.get(unit.table, 0) + unit.rows_copied
        if unit.state == "failed":
            failed.add(unit.table)
    checks = {t.table: t for t in validation.tables} if validation else {}
    tables = []
    for name, copied in rows.items():
        check = checks.get(name)
        state = TableState.FAILED if name in failed or (check and not check.ok) else (
            TableState.VALIDATED if check else TableState.DONE)  # fmt: skip
        failure = next(
            (redact(u.error or "") for u in (results.failed if results else []) if u.table == name), None
        )
        described = validation.per_table.get(name) if validation else None
        tables.append(TableStatus(name=name, state=state, rows_copied=copied, validation=described or failure,
                                  checksum=check.checksum if check else None))  # fmt: skip
    return tables


def write_local_report(
    path: str, name: str, prepared: Prepared, *, started: datetime, ok: bool, message: str,
    results: UnitResults | None = None, validation: ValidationReport | None = None,
) -> None:  # fmt: skip
    now = datetime.now(UTC)
    status = MigrationStatus(
        phase=Phase.SUCCEEDED if ok else Phase.FAILED, message=message, start_time=rfc3339(started),
        completion_time=rfc3339(now), attempts=1, plan=prepared.plan.to_status(),
        tables=_tables(results, validation),
    )  # fmt: skip
    ctx = MigrationContext(name, "local", prepared.uid, 1, prepared.spec, status)
    kept = {PLAN_JSON: json.dumps(prepared.plan.to_dict())}
    if prepared.plan.snapshots is not None:
        kept[SCHEMAS_JSON] = json.dumps(prepared.plan.snapshots)
    report = with_kept_plan(build_report(ctx, rfc3339(now)), kept)
    if path.endswith(".md"):
        script = plan_script(prepared.plan, prepared.target.dialect, name)
        Path(path).write_text(render_markdown(report, script))
    else:
        Path(path).write_text(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
