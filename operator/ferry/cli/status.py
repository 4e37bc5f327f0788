"""`ferry status mig/NAME [-w]`: a Migration's phase, conditions, plan and progress bars.

Rendering is a pure function of the object (`render_status`), so it is tested with sample
statuses; polling (`watch`) takes the fetch function, and only `run` talks to the API.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from typing import Any

from kubernetes import client
from rich.console import Console, Group, RenderableType
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from ferry.api.kinds import MIGRATION
from ferry.api.migration import (
    CutoverStatus,
    EffectiveSettings,
    JobKind,
    MigrationStatus,
    Phase,
    PlanStatus,
    ProgressStatus,
    ReplicationStatus,
    TableStatus,
)
from ferry.api.migration_validation import ValidationStatus
from ferry.cli.control import EXIT_OK, add_target_arguments, with_migration
from ferry.humanize import human_duration, human_rate
from ferry.kube.status import get_object

# Where `status -w` stops, and the exit code it then returns (scripts can chain on it).
TERMINAL_PHASES: dict[Phase, int] = {Phase.SUCCEEDED: 0, Phase.FAILED: 1, Phase.ROLLED_BACK: 1}
EXIT_INTERRUPTED = 130

_PHASE_STYLE = {
    Phase.SUCCEEDED: "bold green",
    Phase.FAILED: "bold red",
    Phase.ROLLED_BACK: "bold red",
    Phase.ROLLING_BACK: "bold yellow",
    Phase.AWAITING_APPROVAL: "bold yellow",
    Phase.SUSPENDED: "bold yellow",
    Phase.RUNNING: "bold cyan",
    Phase.FOLLOWING: "bold green",
    Phase.CUTTING_OVER: "bold cyan",
    Phase.VALIDATING: "bold cyan",
}
_CONDITION_STYLE = {"True": "green", "False": "red", "Unknown": "yellow"}
_BAR_WIDTH = 40


def human_count(n: int) -> str:
    return f"{n:,}"


def _header(meta: dict[str, Any], spec: dict[str, Any], status: MigrationStatus) -> RenderableType:
    text = Text()
    text.append(f"Migration {meta.get('namespace', '')}/{meta.get('name', '')}", style="bold")
    text.append("   phase ")
    text.append(status.phase.value, style=_PHASE_STYLE.get(status.phase, "bold"))
    if spec.get("suspend") and status.phase != Phase.SUSPENDED:
        text.append("  (suspend requested)", style="yellow")
    if status.job_name:
        kind = " (follower)" if status.job_kind == JobKind.FOLLOWER else ""
        text.append(f"\njob {status.job_name}{kind}, attempt {status.attempts}")
    if status.start_time:
        text.append(f"\nstarted {status.start_time}")
        if status.completion_time:
            text.append(f", finished {status.completion_time}")
    if status.message:
        text.append(f"\n{status.message}")
    return text


def _conditions(status: MigrationStatus) -> RenderableType | None:
    if not status.conditions:
        return None
    table = Table(title="Conditions", title_justify="left", show_edge=False, expand=False)
    for column in ("Type", "Status", "Reason", "Message"):
        table.add_column(column, overflow="fold")
    for condition in status.conditions:
        table.add_row(
            condition.type,
            Text(condition.status, style=_CONDITION_STYLE.get(condition.status, "")),
            condition.reason,
            condition.message,
        )
    return table


def _plan(spec: dict[str, Any], plan: PlanStatus | None, name: str) -> RenderableType | None:
    if plan is None or not plan.hash:
        return None
    text = Text("Plan ", style="bold")
    text.append(plan.hash)
    text.append(f"   safe {plan.safe}", style="green")
    text.append(f"   lossy {plan.lossy}", style="yellow" if plan.lossy else "")
    text.append(f"   destructive {plan.destructive}", style="red" if plan.destructive else "")
    approved = ((spec.get("approval") or {}).get("planHash")) or None
    if approved == plan.hash:
        text.append("   approved", style="green")
    elif approved:
        text.append(f"   approval is for another plan ({approved})", style="yellow")
    elif plan.destructive or plan.lossy:
        # Whether approval is needed depends on the Project's policy; the phase says if it waits.
        text.append("   not approved", style="dim")
        text.append(f" (ferry approve mig/{name})", style="dim")
    for warning in plan.warnings:
        text.append(f"\n  ! {warning}", style="yellow")
    if plan.warnings_omitted:
        text.append(
            f"\n  ! and {plan.warnings_omitted} more warnings (ferry plan shows them all)", style="yellow"
        )
    return text


def _settings(effective: EffectiveSettings | None) -> RenderableType | None:
    """What runs (status.effective), with the values a Project's defaults supplied marked."""
    if effective is None:
        return None
    project = set(effective.from_project)

    def mark(field: str, text: str) -> str:
        return f"{text} (project)" if field in project else text

    batch = str(effective.batch_size) if effective.batch_size else "engine default"
    checks = (
        "checksums"
        if effective.checksum_validation
        else "row counts"
        if effective.row_count_validation
        else "none"
    )
    parts = [
        mark("copy.batchSize", f"batch {batch}"),
        mark("copy.parallelism", f"parallelism {effective.parallelism}"),
        mark(
            "validation.checksum" if effective.checksum_validation else "validation.rowCount",
            f"validation {checks}",
        ),
    ]
    if effective.job_resources is not None:
        parts.append(mark("job.resources", "job resources set"))
    return Text("Settings ", style="bold").append(", ".join(parts))


def _overall(progress: ProgressStatus) -> RenderableType:
    grid = Table.grid(padding=(0, 1))
    percent = progress.percent
    rows = human_count(progress.rows_copied)
    if progress.rows_estimated:
        rows += f" / {human_count(progress.rows_estimated)}"
    speed = progress.speed or human_rate(progress.rows_per_second)
    eta = progress.eta or (human_duration(progress.eta_seconds) if progress.eta_seconds is not None else "-")
    grid.add_row(
        Text("Progress", style="bold"),
        ProgressBar(total=100.0, completed=percent, width=_BAR_WIDTH),
        f"{percent:5.1f}%",
        f"{rows} rows",
        speed,
        f"ETA {eta}",
    )
    grid.add_row("Tables", f"{progress.tables_done}/{progress.tables_total} done", "", "", "", "")
    return grid


def _validation(validation: ValidationStatus | None) -> RenderableType | None:
    """The validation run's key ranges compared so far (the validation pods report them)."""
    if validation is None or not validation.ranges_total:
        return None
    grid = Table.grid(padding=(0, 1))
    done, total = validation.ranges_done, validation.ranges_total
    grid.add_row(
        Text("Validation", style="bold"),
        ProgressBar(total=float(total), completed=float(done), width=_BAR_WIDTH),
        f"{done}/{total} key ranges",
        f"{human_count(validation.rows_compared)} rows compared",
        f"run {validation.run}",
    )
    return grid


def _table_bar(entry: TableStatus) -> ProgressBar:
    total = max(entry.rows_estimated, entry.rows_copied, 1)
    completed = total if entry.state.lower() in {"done", "succeeded", "validated"} else entry.rows_copied
    return ProgressBar(total=float(total), completed=float(completed), width=_BAR_WIDTH)


def _tables(status: MigrationStatus) -> RenderableType | None:
    if not status.tables:
        return None
    grid = Table.grid(padding=(0, 1))
    for entry in status.tables:
        rows = human_count(entry.rows_copied)
        if entry.rows_estimated:
            rows += f" / {human_count(entry.rows_estimated)}"
        grid.add_row(entry.name, _table_bar(entry), entry.state, rows, entry.validation or "")
    if status.tables_omitted:
        grid.add_row(f"… and {status.tables_omitted} more tables", "", "", "", "")
    return grid


def _replication(replication: ReplicationStatus | None) -> RenderableType | None:
    """Online mode: where the change stream stands (status.replication, written by the follower)."""
    if replication is None:
        return None
    text = Text("Replication ", style="bold")
    text.append(replication.state or "not following yet", style="green" if replication.state else "dim")
    if replication.lag_seconds is not None:
        text.append(f"   lag {replication.lag_seconds:.1f}s")
        if replication.lag_bytes is not None:
            text.append(f" ({human_count(replication.lag_bytes)} bytes)")
    if replication.applied_position:
        text.append(f"   applied {replication.applied_position}")
        if replication.source_position:
            text.append(f" (source at {replication.source_position})")
    if replication.state and replication.changes_applied is not None:
        applied = human_count(replication.changes_applied)
        text.append(f"   {replication.changes_per_second or 0:,.1f} changes/s, {applied} applied")
    if replication.apply_method:
        text.append(f"   apply: {replication.apply_method}")
        if replication.apply_method_reason:
            text.append(f" ({replication.apply_method_reason})", style="dim")
    if replication.start_position:
        text.append(f"\n  started at {replication.start_position}")
    if replication.cutover_position:
        text.append(f", cutover position {replication.cutover_position}")
    if replication.details:
        text.append(
            "\n  " + ", ".join(f"{k} {v}" for k, v in sorted(replication.details.items())), style="dim"
        )
    if replication.message:
        text.append(f"\n  {replication.message}", style="yellow")
    return text


def _cutover(cutover: CutoverStatus | None, spec: dict[str, Any], name: str) -> RenderableType | None:
    if spec.get("mode") != "online":
        return None
    text = Text("Cutover ", style="bold")
    if cutover is None or not cutover.requested_at:
        requested = (spec.get("cutover") or {}).get("requested")
        text.append(
            "requested, waiting to start" if requested else f"not requested (ferry cutover mig/{name})"
        )
        return text
    text.append(f"requested {cutover.requested_at}")
    if cutover.started_at:
        text.append(f", started {cutover.started_at}")
    if cutover.position:
        text.append(f", applied up to {cutover.position}")
    if cutover.completed_at:
        text.append(f", completed {cutover.completed_at}", style="green")
    if cutover.duration_seconds is not None:
        text.append(f" ({cutover.duration_seconds:.1f}s)")
    return text


def render_status(obj: dict[str, Any]) -> RenderableType:
    """Everything a user wants at a glance about one Migration object, as a rich renderable."""
    meta = obj.get("metadata") or {}
    spec = obj.get("spec") or {}
    status = MigrationStatus.model_validate(obj.get("status") or {})
    parts = [
        _header(meta, spec, status),
        _conditions(status),
        _plan(spec, status.plan, str(meta.get("name", "NAME"))),
        _settings(status.effective),
        _overall(status.progress) if status.progress is not None else None,
        _validation(status.validation),
        _replication(status.replication),
        _cutover(status.cutover, spec, str(meta.get("name", "NAME"))),
        _tables(status),
    ]
    shown: list[RenderableType] = []
    for part in parts:
        if part is not None:
            shown += [part, Text("")]
    return Group(*shown[:-1])


def terminal_exit_code(obj: dict[str, Any]) -> int | None:
    """The exit code once the Migration reached a terminal phase, None while it may still change."""
    phase = (obj.get("status") or {}).get("phase")
    try:
        return TERMINAL_PHASES.get(Phase(phase)) if phase else None
    except ValueError:
        return None


def watch(
    fetch: Callable[[], dict[str, Any]],
    console: Console,
    interval: float = 1.0,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Redraw the status every `interval` seconds until the phase is terminal; its exit code."""
    from rich.live import Live

    obj = fetch()
    with Live(render_status(obj), console=console, refresh_per_second=4) as live:
        while (code := terminal_exit_code(obj)) is None:
            sleep(interval)
            obj = fetch()
            live.update(render_status(obj))
    return code


def run(args: argparse.Namespace) -> int:
    console = Console()

    def show(api: client.ApiClient, namespace: str, name: str) -> int:
        def fetch() -> dict[str, Any]:
            return get_object(api, MIGRATION, namespace, name)

        if not args.watch:
            console.print(render_status(fetch()))
            return EXIT_OK
        return watch(fetch, console, interval=args.interval)

    try:
        return with_migration(args, show)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "status",
        help="show a Migration's phase, conditions, plan and progress",
        description="Show a Migration's phase, conditions, plan and progress. With -w, refresh until "
        "it finishes: exit 0 when Succeeded, 1 when Failed or RolledBack, 130 on Ctrl-C.",
    )
    add_target_arguments(parser)
    parser.add_argument("-w", "--watch", action="store_true", help="refresh until the Migration finishes")
    parser.add_argument("--interval", type=float, default=1.0, help="seconds between refreshes with -w")
    parser.set_defaults(func=run)
