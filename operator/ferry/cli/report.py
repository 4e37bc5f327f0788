"""`kubectl ferry report mig/NAME [-n NS] [--format md|json] [--output json|sql]`: a Migration's last run.

Reads the ConfigMap the operator keeps when a run ends (ferry.kube.run_report), found by the
label `ferry.dev/migration=NAME`, so it works after the Migration is deleted; the newest when a
name was used more than once. Prints who approved, what ran (plan hash and counts), the
outcome, the tables with their validation, and the transforms that protected columns;
`--output json` (or `--format json`) the whole report, `--format md` it as Markdown (a change
ticket's attachment), `--output sql` the plan's script as it ran. Needs `list` on
configmaps in the namespace (the built-in view role, or ferry-viewer plus list).
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from kubernetes import client
from rich.console import Console
from rich.markup import escape

from ferry.cli.control import EXIT_OK, Refused, add_target_arguments, with_migration
from ferry.kube.plan_configmap import PLAN_SQL
from ferry.kube.report_markdown import render_markdown
from ferry.kube.run_report import MIGRATION_LABEL, REPORT_JSON, REPORT_LABEL, REPORT_MD


def newest_report(api: client.ApiClient, namespace: str, name: str) -> dict[str, str]:
    listed = client.CoreV1Api(api).list_namespaced_config_map(
        namespace, label_selector=f"{REPORT_LABEL}=true,{MIGRATION_LABEL}={name[:63]}"
    )
    items = sorted(listed.items, key=lambda cm: cm.metadata.creation_timestamp)
    if not items:
        raise Refused(f'no run report for Migration "{name}" in namespace "{namespace}" (a run is '
                      "reported when it ends)")  # fmt: skip
    data: dict[str, str] = items[-1].data or {}
    return data


def report_lines(report: dict[str, Any]) -> list[str]:
    """The report for a reader, one fact per line (rich markup; names escaped)."""
    mig, outcome, plan = report["migration"], report["outcome"], report.get("plan") or {}
    author = escape(str(mig.get("author") or "not recorded"))
    counted = [a["approver"] for a in report.get("approvals") or [] if a["counted"]]
    by_hash = " and spec.approval.planHash" if report.get("approvedBySpecHash") else ""
    lines = [
        f"[bold]Migration {escape(mig['namespace'])}/{escape(mig['name'])}[/] "
        f"(uid {mig['uid']}, author {author})",
        f"outcome: {outcome['phase']} ({outcome.get('reason')}): {escape(outcome.get('message') or '')}",
        f"ran: {outcome.get('startTime')} to {outcome.get('completionTime')}, {outcome.get('attempts', 0)} "
        f"attempt(s); reported {report['writtenAt']}",
        f"plan: {plan.get('hash')} (safe {plan.get('safe', 0)}, lossy {plan.get('lossy', 0)}, "
        f"destructive {plan.get('destructive', 0)})",
        f"approved by: {escape(', '.join(counted) or 'no MigrationApproval')}{by_hash}",
    ]
    lines += [f"protected: {escape(t['table'])}.{escape(t['column'])} by {t['type']}"
              for t in report.get("transforms") or []]  # fmt: skip
    if plan.get("unprotectedPersonalColumns"):
        lines.append(
            f"[yellow]personal-looking columns copied as they are: {plan['unprotectedPersonalColumns']}[/]"
        )
    lines += [f"[red]error:[/] {escape(error)}" for error in report.get("errors") or []]
    for table in report.get("tables") or []:
        validation = table.get("validation") or "-"
        checksum = f", checksum {table['checksum']}" if table.get("checksum") else ""
        lines.append(f"  {escape(table['name'])}: {table.get('rowsCopied', 0):,} rows, {table['state']}, "
                     f"validation {escape(validation)}{checksum}")  # fmt: skip
    return lines


def show_report(args: argparse.Namespace) -> int:
    def body(api: client.ApiClient, namespace: str, name: str) -> int:
        data = newest_report(api, namespace, name)
        if args.format == "md":
            # Reports written before Markdown was kept are rendered here from their JSON.
            print(data.get(REPORT_MD) or render_markdown(json.loads(data[REPORT_JSON]), data.get(PLAN_SQL)))
        elif args.format == "json" or args.output == "json":
            print(data[REPORT_JSON])
        elif args.output == "sql":
            if PLAN_SQL not in data:
                raise Refused("this report keeps no script (the plan's was too large or not kept)")
            print(data[PLAN_SQL], end="")
        else:
            console = Console()
            for line in report_lines(json.loads(data[REPORT_JSON])):
                console.print(line, highlight=False, soft_wrap=True)  # a line per fact, never cut
        return EXIT_OK

    return with_migration(args, body)


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "report",
        help="the report of a Migration's last run (kept after the Migration is deleted)",
        description="Who approved, what ran, the outcome and what protected which columns.",
    )
    add_target_arguments(parser)
    parser.add_argument("--output", choices=("text", "json", "sql"), default="text")
    parser.add_argument("--format", choices=("md", "json"), help="the whole report as Markdown or JSON")
    parser.set_defaults(func=show_report)
