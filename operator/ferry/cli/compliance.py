"""`kubectl ferry compliance --project NAME [--since 30d] [--output json]`: what the Project's Migrations did.

One row per run report (ferry.kube.run_report) written in the period, so Migrations deleted
since count too: who approved (counted MigrationApprovals, or the plan hash in the spec), which
personal columns were copied and what protected each, the validation outcome and the DDL risk
of the plan that ran. Reads ConfigMaps only (`list` on configmaps in the Project's namespaces:
a viewer with that right, or an auditor); reports pruned by the Project's retention are gone.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from ferry.cli.cluster_api import ClusterError, cluster_api
from ferry.cli.control import EXIT_FAILED, EXIT_OK, EXIT_REFUSED
from ferry.cli.project_scope import project_namespaces
from ferry.kube.run_report import read_reports

_PERIOD = re.compile(r"^([1-9][0-9]{0,4})([dh])$")


def period(text: str) -> timedelta:
    match = _PERIOD.match(text)
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not a period such as 30d or 12h")
    amount = int(match.group(1))
    return timedelta(days=amount) if match.group(2) == "d" else timedelta(hours=amount)


def _when(report: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(str(report.get("writtenAt", "1970-01-01T00:00:00Z")).replace("Z", "+00:00"))


def _risk(plan: dict[str, Any]) -> str:
    counts = [f"{plan.get(risk, 0)} {risk}" for risk in ("destructive", "lossy") if plan.get(risk)]
    return ", ".join(counts) or "safe"


def _differs(validation: str | None) -> bool:
    return validation is not None and not validation.startswith("ok")


def _validation(report: dict[str, Any]) -> str:
    tables = report.get("tables") or []
    if not tables:
        return "none"
    # A table that failed to copy, or whose validation found a difference (the operator keeps its
    # state `done` then and says what differs: ferry.services.validation.describe).
    bad = [t["name"] for t in tables if t.get("state") == "failed" or _differs(t.get("validation"))]
    if bad:
        return f"failed: {len(bad)} of {len(tables)} tables"
    checked = all(t.get("state") == "validated" for t in tables)
    with_sums = all(t.get("checksum") for t in tables)
    return ("ok (rows and checksums)" if with_sums else "ok (rows)") if checked else "not validated"


def row(report: dict[str, Any]) -> dict[str, Any]:
    mig, outcome, plan = report["migration"], report["outcome"], report.get("plan") or {}
    approvers = [a["approver"] for a in report.get("approvals") or [] if a.get("counted")]
    if report.get("approvedBySpecHash"):
        approvers.append("spec.approval.planHash")
    personal = [{"column": f"{p['table']}.{p['column']}", "category": p["category"],
                 "protection": p.get("protection")} for p in report.get("personalData") or []]  # fmt: skip
    return {
        "namespace": mig["namespace"], "migration": mig["name"], "uid": mig["uid"],
        "author": mig.get("author"), "phase": outcome["phase"], "completed": outcome.get("completionTime"),
        "reported": report.get("writtenAt"), "planHash": plan.get("hash"), "approvers": approvers,
        "personalData": personal if report.get("personalData") is not None else None,
        "unprotectedPersonalColumns": plan.get("unprotectedPersonalColumns", 0),
        "validation": _validation(report), "ddlRisk": _risk(plan),
    }  # fmt: skip


def rows(reports: Iterable[dict[str, Any]], since: timedelta, now: datetime) -> list[dict[str, Any]]:
    """The reports written in the last `since`, oldest first, as compliance rows."""
    recent = [r for r in reports if r.get("kind") == "MigrationRunReport" and _when(r) >= now - since]
    return [row(r) for r in sorted(recent, key=_when)]


def _personal_cell(entry: dict[str, Any]) -> str:
    if entry["personalData"] is None:
        return f"{entry['unprotectedPersonalColumns']} unprotected (details not kept)"
    return "\n".join(f"{p['column']} ({p['category']}): {p['protection'] or 'NOT PROTECTED'}"
                     for p in entry["personalData"]) or "none"  # fmt: skip


def print_rows(console: Console, project: str, since: str, entries: list[dict[str, Any]]) -> None:
    table = Table(title=f"Migrations of project {project}, last {since}", title_justify="left")
    for header in ("migration", "outcome", "approved by", "personal data", "validation", "DDL risk"):
        table.add_column(header, overflow="fold")
    for e in entries:
        approvers = escape(", ".join(e["approvers"]) or "nobody")
        table.add_row(escape(f"{e['namespace']}/{e['migration']}"), f"{e['phase']}\n{e['completed'] or ''}",
                      approvers, escape(_personal_cell(e)), e["validation"], e["ddlRisk"])  # fmt: skip
    console.print(table)


def run_compliance(args: argparse.Namespace) -> int:
    try:
        since = period(args.since)
    except argparse.ArgumentTypeError as error:
        print(f"error: --since: {error}", file=sys.stderr)
        return EXIT_REFUSED
    try:
        with cluster_api(args.kubeconfig) as api:
            namespaces = project_namespaces(api, args.project)
            reports = [r for ns in namespaces for r in read_reports(api, ns)]
    except ClusterError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_FAILED
    entries = rows(reports, since, datetime.now(UTC))
    if args.output == "json":
        print(json.dumps({"project": args.project, "namespaces": namespaces, "since": args.since,
                          "migrations": entries}, indent=2))  # fmt: skip
    else:
        print_rows(Console(), args.project, args.since, entries)
    return EXIT_OK


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "compliance",
        help="a Project's Migrations from their run reports: approvers, personal data, validation, DDL risk",
        description="Lists the run reports of a Project's namespaces, also of deleted Migrations.",
    )
    parser.add_argument("--project", required=True, help="the Project's name")
    parser.add_argument("--since", default="30d", help="how far back, e.g. 30d or 12h (default 30d)")
    parser.add_argument("--output", choices=("table", "json"), default="table")
    parser.add_argument(
        "--kubeconfig", help="path of the kubeconfig (default: $KUBECONFIG or ~/.kube/config)"
    )
    parser.set_defaults(func=run_compliance)
