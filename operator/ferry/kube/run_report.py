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
from datetime import datetime
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from ferry.kube.apply import server_side_apply
from ferry.kube.plan_configmap import MAX_BYTES, PLAN_SQL, SCHEMAS_JSON, plan_configmap_name
from ferry.kube.report_document import same_plan, with_kept_plan
from ferry.kube.report_markdown import render_markdown

REPORT_JSON, REPORT_MD = "report.json", "report.md"
REPORT_LABEL = "ferry.dev/report"
MIGRATION_LABEL = "ferry.dev/migration"


def report_configmap_name(migration: str, uid: str) -> str:
    return f"ferry-report-{migration}"[:240] + f"-{uid[:8]}"


def _kept_plan(api: client.ApiClient, namespace: str, migration: str) -> dict[str, str]:
    try:
        kept = client.CoreV1Api(api).read_namespaced_config_map(plan_configmap_name(migration), namespace)
    except ApiException as exc:
        if exc.status == 404:
            return {}
        raise
    data: dict[str, str] = kept.data or {}
    return data


def build_report_configmap(namespace: str, migration: str, uid: str, report: dict[str, Any],
                           kept: dict[str, str]) -> dict[str, Any]:  # fmt: skip
    data = {REPORT_JSON: json.dumps(report, indent=2, ensure_ascii=False)}
    markdown = render_markdown(report)  # the script is its own key: not twice in one object
    if len(markdown) + len(data[REPORT_JSON]) <= MAX_BYTES:
        data[REPORT_MD] = markdown
    for key in (PLAN_SQL, SCHEMAS_JSON):  # the script as it ran, then the schemas it was planned on
        if kept.get(key) and len(kept[key]) + sum(len(v) for v in data.values()) <= MAX_BYTES:
            data[key] = kept[key]
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
    kept = _kept_plan(api, namespace, migration)
    if not same_plan(report, kept):
        kept = {}  # a later plan than the one that ran: its details would not be this run's
    configmap = build_report_configmap(namespace, migration, uid, with_kept_plan(report, kept), kept)
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


def list_kept_reports(api: client.ApiClient, namespace: str) -> list[tuple[str, datetime]]:
    """(ConfigMap name, when the report was written) of every run report in `namespace`; the
    ConfigMap's creation time when the report is unreadable (a person edited it)."""
    listed = client.CoreV1Api(api).list_namespaced_config_map(
        namespace, label_selector=f"{REPORT_LABEL}=true"
    )
    kept = []
    for item in listed.items:
        written: datetime = item.metadata.creation_timestamp
        try:
            text = json.loads((item.data or {})[REPORT_JSON])["writtenAt"]
            written = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except (KeyError, ValueError, TypeError, AttributeError):
            pass
        kept.append((item.metadata.name, written))
    return kept


def delete_report(api: client.ApiClient, namespace: str, name: str) -> None:
    try:
        client.CoreV1Api(api).delete_namespaced_config_map(name, namespace)
    except ApiException as exc:
        if exc.status != 404:  # gone already: what was wanted
            raise
