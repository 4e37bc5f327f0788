"""`kubectl ferry usage --project NAME`: a Project's usage (status.usage): all runs, this month
and the previous one, with the estimated cost when the Project sets prices.

The operator computes the figures from the run reports every 30 s (ferry.services.usage); this
command only reads the Project. Rendering is a pure function of the usage (`usage_table`).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from kubernetes import client
from rich.console import Console
from rich.table import Table

from ferry.api.kinds import GROUP, PROJECT, VERSION
from ferry.api.project import ProjectUsage
from ferry.api.project_usage import MonthUsage
from ferry.cli.cluster_api import ClusterError, cluster_api
from ferry.cli.exits import EXIT_FAILED, EXIT_OK

_ROWS = (
    ("runs", "runs"),
    ("rows copied", "rows_copied"),
    ("bytes copied", "bytes_copied"),
    ("worker CPU-seconds", "worker_cpu_seconds"),
    ("  copy", "copy_cpu_seconds"),
    ("  validation", "validation_cpu_seconds"),
    ("  follower", "follower_cpu_seconds"),
    ("requested core-hours", "cpu_hours"),
    ("estimated cost", "estimated_cost"),
)


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def usage_table(project: str, usage: ProjectUsage) -> Table:
    periods: list[tuple[str, ProjectUsage | MonthUsage]] = [("all runs", usage)]
    for month in (usage.current_month, usage.previous_month):
        if month is not None:
            periods.append((month.month, month))
    table = Table(title=f"Project {project}: usage")
    table.add_column("")
    for title, _ in periods:
        table.add_column(title, justify="right")
    for label, attribute in _ROWS:
        table.add_row(label, *(_cell(getattr(figures, attribute, None)) for _, figures in periods))
    return table


def show_usage(args: argparse.Namespace) -> int:
    try:
        with cluster_api(args.kubeconfig, not_found=f'Project "{args.project}" not found') as api:
            project: dict[str, Any] = client.CustomObjectsApi(api).get_cluster_custom_object(
                GROUP, VERSION, PROJECT.plural, args.project
            )
    except ClusterError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILED
    raw = (project.get("status") or {}).get("usage")
    if raw is None:
        print(f"Project {args.project} has no usage yet (the operator counts it every 30 s)")
        return EXIT_OK
    usage = ProjectUsage.model_validate(raw)
    if args.output == "json":
        print(json.dumps(usage.to_wire(), indent=2))
    else:
        Console().print(usage_table(args.project, usage))
    return EXIT_OK


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser("usage", help="a Project's usage: this month, the previous one, all runs")
    parser.add_argument("--project", required=True, help="the Project's name")
    parser.add_argument(
        "--kubeconfig", help="path of the kubeconfig (default: $KUBECONFIG or ~/.kube/config)"
    )
    parser.add_argument("--output", choices=("text", "json"), default="text")
    parser.set_defaults(func=show_usage)
