"""`kubectl ferry plan mig/NAME [-n NS] [--sql | --output json]`: the plan the operator made.

The operator keeps the whole plan — every operation with its DDL, the warnings, errors and the
SQL script — in the ConfigMap `status.plan.configMap` names (ferry.kube.plan_configmap); this
reads it back and shows it as `ferry plan -f` shows a local one. Needs `get` on migrations and
configmaps in the namespace (the ferry-viewer role). With an operator that kept no ConfigMap,
the table falls back to the bounded summary in `status.plan` and says so.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from kubernetes import client
from rich.console import Console

from ferry.api.kinds import MIGRATION
from ferry.cli.control import EXIT_OK, Refused, with_migration
from ferry.cli.plan_render import print_plan
from ferry.kube.plan_configmap import PLAN_JSON, PLAN_SQL
from ferry.kube.status import get_object


def _summary_document(plan: dict[str, Any]) -> dict[str, Any]:
    """status.plan in the document form (its operations carry no phase)."""
    operations = [{"kind": op.get("kind", ""), "table": op.get("table", ""), "detail": op.get("detail", ""),
                   "risk": op.get("risk", "safe"), "reason": op.get("reason", ""),
                   "affectedRows": op.get("affectedRows", 0), "phase": "summary from status"}
                  for op in plan.get("operations") or []]  # fmt: skip
    return {
        "hash": plan.get("hash"), "mode": "from status",
        "counts": {risk: plan.get(risk, 0) for risk in ("safe", "lossy", "destructive")},
        "operations": operations, "operationsOmitted": plan.get("operationsOmitted", 0),
        "warnings": plan.get("warnings") or [], "errors": [],
    }  # fmt: skip


def _read(
    api: client.ApiClient, namespace: str, name: str
) -> tuple[dict[str, Any], dict[str, Any], str | None]:
    """(Migration, plan document, script or None)."""
    obj = get_object(api, MIGRATION, namespace, name)
    status = obj.get("status") or {}
    plan = status.get("plan") or {}
    if not plan.get("hash"):
        raise Refused(f"there is no plan yet (phase {status.get('phase', 'Pending')}); wait for planning")
    configmap = plan.get("configMap")
    if not configmap:
        return obj, _summary_document(plan), None
    data = client.CoreV1Api(api).read_namespaced_config_map(configmap, namespace).data or {}
    document: dict[str, Any] = json.loads(data[PLAN_JSON])
    return obj, document, data.get(PLAN_SQL)


def show_cluster_plan(args: argparse.Namespace) -> int:
    args.migration = args.target  # with_migration reads it there

    def body(api: client.ApiClient, namespace: str, name: str) -> int:
        obj, document, script = _read(api, namespace, name)
        current = ((obj.get("status") or {}).get("plan") or {}).get("hash")
        if document.get("hash") != current:  # planned again; status is written a moment later
            print(f"note: the kept plan {document.get('hash')} is newer than status.plan ({current})",
                  file=sys.stderr)  # fmt: skip
        if args.sql:
            if script is None:
                raise Refused("the operator kept no full plan for this Migration (status.plan.configMap "
                              "is empty); run `ferry plan -f bundle.yaml --sql` locally")  # fmt: skip
            print(script, end="")
        elif args.output == "json":
            print(json.dumps({"migration": name, **document}, indent=2, ensure_ascii=False))
        else:
            message = (obj.get("status") or {}).get("message")
            phase = (obj.get("status") or {}).get("phase")
            print_plan(Console(), name, document, message if phase == "AwaitingApproval" else None)
        return EXIT_OK

    return with_migration(args, body)
