"""Keep a Migration's run report (ferry.services.run_report) in a ConfigMap that outlives it.

`ferry-report-<migration>-<uid prefix>`: one per Migration object (a Migration deleted and made
again under the same name gets its own), labelled `ferry.dev/report=true` and
`ferry.dev/migration=<name>` so `kubectl ferry report mig/NAME` finds it after the Migration
is gone, and so they can be listed or pruned by label. No owner reference on purpose: garbage
collection would delete it with the Migration. The plan's SQL script is copied in from the
plan ConfigMap (which *is* owned by the Migration), so the report says exactly what ran.
"""

from __future__ import annotations

import json
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from ferry.kube.apply import server_side_apply
from ferry.kube.plan_configmap import MAX_BYTES, PLAN_SQL, plan_configmap_name

REPORT_JSON = "report.json"
REPORT_LABEL = "ferry.dev/report"
MIGRATION_LABEL = "ferry.dev/migration"


def report_configmap_name(migration: str, uid: str) -> str:
    return f"ferry-report-{migration}"[:240] + f"-{uid[:8]}"


def _plan_script(api: client.ApiClient, namespace: str, migration: str) -> str | None:
    try:
        kept = client.CoreV1Api(api).read_namespaced_config_map(plan_configmap_name(migration), namespace)
    except ApiException as exc:
        if exc.status == 404:
            return None
        raise
    return (kept.data or {}).get(PLAN_SQL)


def build_report_configmap(namespace: str, migration: str, uid: str, report: dict[str, Any],
                           script: str | None) -> dict[str, Any]:  # fmt: skip
    data = {REPORT_JSON: json.dumps(report, indent=2, ensure_ascii=False)}
    if script and len(script) + len(data[REPORT_JSON]) <= MAX_BYTES:
        data[PLAN_SQL] = script
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": report_configmap_name(migration, uid),
            "namespace": namespace,
            "labels": {
                REPORT_LABEL: "true",
                MIGRATION_LABEL: migration[:63],
                "app.kubernetes.io/managed-by": "ferry",
            },
            "annotations": {"ferry.dev/migration-uid": uid},
        },
        "data": data,
    }


def write_report(
    api: client.ApiClient, namespace: str, migration: str, uid: str, report: dict[str, Any]
) -> str:
    configmap = build_report_configmap(
        namespace, migration, uid, report, _plan_script(api, namespace, migration)
    )
    server_side_apply(api, configmap)
    name: str = configmap["metadata"]["name"]
    return name


def read_reports(api: client.ApiClient, namespace: str) -> list[dict[str, Any]]:
    """Every run report kept in `namespace` (those of deleted Migrations too); an unreadable one
    is skipped (reports are written by Ferry only, but a person may edit a ConfigMap)."""
    listed = client.CoreV1Api(api).list_namespaced_config_map(
        namespace, label_selector=f"{REPORT_LABEL}=true"
    )
    reports = []
    for item in listed.items:
        try:
            reports.append(json.loads((item.data or {})[REPORT_JSON]))
        except (KeyError, ValueError):
            continue
    return reports
