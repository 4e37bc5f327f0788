"""Prune a Project's run reports by its retention (`spec.reports`); see ferry.services.report_retention.

Its own timer, every 10 minutes: retention is counted in hours and days, and listing the
namespace's report ConfigMaps is the whole cost. A Project without a rule is not listed.
The operator's ClusterRole already has `delete` on configmaps (plan and worker objects).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import kopf
from kubernetes.client.exceptions import ApiException

from ferry.api.kinds import GROUP, PROJECT, VERSION
from ferry.api.project import ProjectSpec
from ferry.kube.client import shared_api_client
from ferry.kube.project_objects import project_namespace
from ferry.kube.run_report import delete_report, list_kept_reports
from ferry.observability.logging import get_logger
from ferry.services.report_retention import KeptReport, expired

log = get_logger(__name__)
INTERVAL_SECONDS = 600.0


def prune_reports(api: Any, namespace: str, spec: ProjectSpec, now: datetime) -> list[str]:
    rule = spec.reports
    if rule.retention is None and rule.max_count is None:
        return []
    kept = [KeptReport(name, written) for name, written in list_kept_reports(api, namespace)]
    doomed = expired(kept, rule, now)
    for name in doomed:
        delete_report(api, namespace, name)
    if doomed:
        log.info("run reports deleted by the project's retention", namespace=namespace, count=len(doomed))
    return doomed


@kopf.timer(GROUP, VERSION, PROJECT.plural, interval=INTERVAL_SECONDS, initial_delay=20)
def project_report_retention(name: str, spec: kopf.Spec, status: kopf.Status, **_: Any) -> None:
    parsed = ProjectSpec.model_validate(dict(spec))
    namespace = str(status.get("namespace") or "") or project_namespace(name, parsed)
    try:
        prune_reports(shared_api_client(), namespace, parsed, datetime.now(UTC))
    except ApiException as exc:
        if exc.status != 404:
            raise
