"""The run report completed from the plan ConfigMap's data (pure: no API call).

Status counts personal columns; the plan ConfigMap (ferry.kube.plan_configmap) lists them with
their evidence and protection, and keeps the schema snapshots. The operator completes a report
from it when the run ends (ferry.kube.run_report), `ferry run --report` from the plan it made —
the same function, so both reports have the same fields. Kept free of the Kubernetes client:
`ferry run` starts without it.
"""

from __future__ import annotations

import json
from typing import Any

from ferry.kube.plan_configmap import PLAN_JSON, SCHEMAS_JSON
from ferry.schema.snapshots import hashes


def same_plan(report: dict[str, Any], kept: dict[str, str]) -> bool:
    """Whether the plan ConfigMap still holds the plan that ran (a re-plan rewrites it)."""
    try:
        kept_hash = json.loads(kept[PLAN_JSON]).get("hash") if PLAN_JSON in kept else None
    except ValueError:
        return False
    return kept_hash is None or kept_hash == (report.get("plan") or {}).get("hash")


def with_kept_plan(report: dict[str, Any], kept: dict[str, str]) -> dict[str, Any]:
    """The report completed from the plan ConfigMap: every personal column with its evidence and
    protection (status only counts them), and the hashes of the schema snapshots."""
    try:
        plan = json.loads(kept[PLAN_JSON]) if PLAN_JSON in kept else {}
        schemas = json.loads(kept[SCHEMAS_JSON]) if SCHEMAS_JSON in kept else {}
    except ValueError:
        plan, schemas = {}, {}
    # None, not []: a report without the plan's details must not read as "no personal data".
    personal = plan.get("personalData") if plan else None
    return {**report, "personalData": personal, "planErrors": plan.get("errors", []),
            "schemas": hashes(schemas) if schemas else None}  # fmt: skip
