"""`kubectl ferry diff mig/NAME [-n NS] [--output json]`: how the databases moved since the plan.

Compares both sides' schemas as they are now with the normalised snapshots the plan was made
from (ferry.schema.snapshots): those of the run report once the run has ended (also after the
Migration is deleted), else those the operator keeps with the current plan in the plan
ConfigMap, so it works while the plan awaits approval or runs. It says whether that plan is the
approved one. After a run the target's differences include what the run itself applied (its
tables, keys, indexes), so there only the source's count towards the exit code; before it,
both sides do. Reading the current schemas connects to both databases from where this runs,
with the DatabaseConnections' credentials: it needs `get` on the connections and their Secrets
(a Project admin's rights, not a viewer's) and a network path to the databases. Catalog reads
only; no row is read. Exit code 0 when nothing changed, 1 when something did (or on error).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

import sqlalchemy as sa
from kubernetes import client
from kubernetes.client.exceptions import ApiException
from rich.console import Console
from rich.markup import escape

from ferry.api.connection import DatabaseConnectionSpec
from ferry.api.kinds import DATABASE_CONNECTION, MIGRATION
from ferry.cli.control import EXIT_FAILED, EXIT_OK, Refused, add_target_arguments, with_migration
from ferry.cli.report import newest_report
from ferry.db.credentials import SecretError, resolve_credentials
from ferry.kube.plan_configmap import SCHEMAS_JSON
from ferry.kube.run_report import REPORT_JSON
from ferry.kube.secrets import KubeSecretSource
from ferry.kube.status import get_object
from ferry.observability.errors import first_line
from ferry.schema import discover
from ferry.schema.snapshots import compare
from ferry.services.planning import Side, engine_for


def _stored(api: client.ApiClient, namespace: str, name: str) -> dict[str, Any]:
    """{"snapshots", "planHash", "approved", "from", "source", "target"} (connection names)."""
    core = client.CoreV1Api(api)
    try:
        obj = get_object(api, MIGRATION, namespace, name)
    except ApiException as exc:
        if exc.status != 404:
            raise
        obj = None
    status = (obj or {}).get("status") or {}
    if obj is None or status.get("report"):
        data = newest_report(api, namespace, name)
        report = json.loads(data[REPORT_JSON])
        if SCHEMAS_JSON not in data:
            raise Refused(
                "the run report keeps no schema snapshots (written by an older operator, or too large)"
            )
        counted = any(a.get("counted") for a in report.get("approvals") or [])
        plan_hash = (report.get("plan") or {}).get("hash")
        return {"snapshots": json.loads(data[SCHEMAS_JSON]), "planHash": plan_hash,
                "approved": counted or bool(report.get("approvedBySpecHash")), "from": "run report",
                "source": report["source"]["connection"],
                "target": report["target"]["connection"]}  # fmt: skip
    plan = status.get("plan") or {}
    if not plan.get("configMap"):
        raise Refused(f"there is no plan yet (phase {status.get('phase', 'Pending')}); wait for planning")
    data = core.read_namespaced_config_map(plan["configMap"], namespace).data or {}
    if SCHEMAS_JSON not in data:
        raise Refused(
            "the plan ConfigMap keeps no schema snapshots (written by an older operator, or too large)"
        )
    spec = obj["spec"]
    counted = any(a.get("counted") for a in status.get("approvals") or [])
    by_hash = (spec.get("approval") or {}).get("planHash") == plan.get("hash")
    return {"snapshots": json.loads(data[SCHEMAS_JSON]), "planHash": plan.get("hash"),
            "approved": counted or by_hash, "from": f"plan ConfigMap {plan['configMap']}",
            "source": spec["source"]["connectionRef"]["name"],
            "target": spec["target"]["connectionRef"]["name"]}  # fmt: skip


def _side(api: client.ApiClient, namespace: str, connection: str) -> Side:
    obj = get_object(api, DATABASE_CONNECTION, namespace, connection)
    spec = DatabaseConnectionSpec.model_validate(obj["spec"])
    return Side(spec, resolve_credentials(spec, KubeSecretSource(client.CoreV1Api(api), namespace)))


def drift(api: client.ApiClient, namespace: str, name: str) -> dict[str, Any]:
    stored = _stored(api, namespace, name)
    result: dict[str, Any] = {"migration": name, "namespace": namespace, "planHash": stored["planHash"],
                              "approved": stored["approved"], "snapshotsFrom": stored["from"]}  # fmt: skip
    for role in ("source", "target"):
        kept = stored["snapshots"].get(role) or []
        with engine_for(_side(api, namespace, stored[role])) as engine:
            current = [discover(engine, snapshot["schema"]) for snapshot in kept]
        result[role] = compare(kept, current)
    return result


def changed(result: dict[str, Any]) -> bool:
    """Drift that matters: the source's, and the target's until the plan has run on it."""
    roles = ("source",) if result["snapshotsFrom"] == "run report" else ("source", "target")
    return any(schema["differences"] for role in roles for schema in result[role])


def print_drift(console: Console, result: dict[str, Any]) -> None:
    approved = "approved" if result["approved"] else "not approved"
    where = escape(result["snapshotsFrom"])
    console.print(f"plan {result['planHash']} ({approved}); snapshots from the {where}", highlight=False)
    for role in ("source", "target"):
        for schema in result[role]:
            where = f"{role} schema {escape(str(schema['schema'] or 'default'))}"
            if not schema["differences"]:
                console.print(f"{where}: unchanged ({schema['storedHash'][:12]})", highlight=False)
                continue
            if role == "target" and result["snapshotsFrom"] == "run report":
                where += " (the run's own DDL included)"
            console.print(f"[yellow]{where}: changed[/] ({schema['storedHash'][:12]} -> "
                          f"{(schema['currentHash'] or '-')[:12]})", highlight=False)  # fmt: skip
            for line in schema["differences"]:
                console.print(f"  {escape(line)}", highlight=False, soft_wrap=True)


def show_diff(args: argparse.Namespace) -> int:
    def body(api: client.ApiClient, namespace: str, name: str) -> int:
        try:
            result = drift(api, namespace, name)
        except SecretError as exc:  # names the Secret and key, never a value
            raise Refused(str(exc)) from exc
        except sa.exc.SQLAlchemyError as exc:  # a database that cannot be reached or read: say why
            print(
                f"error: cannot read the schemas: {first_line(getattr(exc, 'orig', None) or exc)}",
                file=sys.stderr,
            )
            return EXIT_FAILED
        if args.output == "json":
            print(json.dumps(result, indent=2))
        else:
            print_drift(Console(), result)
        return EXIT_FAILED if changed(result) else EXIT_OK

    return with_migration(args, body)


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "diff",
        help="the databases' schemas now against those the Migration's plan was made from",
        description="Schema drift since planning: exit 0 when none, 1 when the schemas changed.",
    )
    add_target_arguments(parser)
    parser.add_argument("--output", choices=("text", "json"), default="text")
    parser.set_defaults(func=show_diff)
