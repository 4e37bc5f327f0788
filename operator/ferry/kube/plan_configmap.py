"""The full plan of a Migration, kept in a ConfigMap beside it (`status.plan.configMap`).

`status.plan` holds a bounded summary (the first 100 operations, 50 warnings): etcd objects
must stay small and status is rewritten often. Reviewers need all of it: every operation with
its DDL, warnings and errors, and the script Ferry runs. The operator writes that here each
time it plans, and `kubectl ferry plan mig/NAME` reads it back.

The ConfigMap is owned by its Migration (garbage-collected with it; `blockOwnerDeletion` is
false, so no `migrations/finalizers` permission is needed) and kept under the 1 MiB object
limit: per-operation DDL is dropped first, then operations from the end, and what was left out
is counted in the JSON.
"""

from __future__ import annotations

import json
from typing import Any

from ferry.api.kinds import API_VERSION, MIGRATION
from ferry.schema.ddl import dialect_for, render_operation
from ferry.schema.operations import OpPhase
from ferry.schema.plan import Plan
from ferry.schema.plan_script import plan_script
from ferry.schema.snapshots import hashes

PLAN_JSON, PLAN_SQL = "plan.json", "plan.sql"
# Both sides' normalised schemas the plan was made from (ferry.schema.snapshots), for `kubectl
# ferry diff` and the run report; only their hashes when the bodies do not fit.
SCHEMAS_JSON = "schemas.json"
# Under the 1 MiB limit on an object, leaving room for metadata.
MAX_BYTES = 900_000
_LABELS = {"app.kubernetes.io/managed-by": "ferry", "app.kubernetes.io/component": "plan"}


def plan_configmap_name(migration: str) -> str:
    return f"ferry-plan-{migration}"[:253]


def plan_document(plan: Plan, dialect_name: str, *, with_sql: bool = True) -> dict[str, Any]:
    """plan.to_dict() with each operation's statements (as Ferry renders them for the target)."""
    document = plan.to_dict()
    if with_sql:
        dialect = dialect_for(dialect_name)
        for entry, op in zip(document["operations"], plan.operations, strict=True):
            entry["sql"] = render_operation(op, dialect) if op.phase != OpPhase.DATA else []
    document["targetDialect"] = dialect_name
    return document


def _bounded(plan: Plan, dialect_name: str, migration: str) -> dict[str, str]:
    script = plan_script(plan, dialect_name, migration)
    document = plan_document(plan, dialect_name)
    text = json.dumps(document, ensure_ascii=False)
    if len(text) + len(script) <= MAX_BYTES:
        return {PLAN_JSON: text, PLAN_SQL: script}
    script = f"-- the script of this plan is over {MAX_BYTES} bytes: run `ferry plan --sql` locally\n"
    document = plan_document(plan, dialect_name, with_sql=False)
    operations = document["operations"]
    while len(text := json.dumps(document, ensure_ascii=False)) > MAX_BYTES - len(script) and operations:
        keep = len(operations) * 3 // 4
        document["operationsOmitted"] = document.get("operationsOmitted", 0) + len(operations) - keep
        del operations[keep:]
    return {PLAN_JSON: text, PLAN_SQL: script}


def build_plan_configmap(
    namespace: str, migration: str, migration_uid: str, plan: Plan, dialect_name: str
) -> dict[str, Any]:
    owner = {"apiVersion": API_VERSION, "kind": MIGRATION.kind, "name": migration, "uid": migration_uid,
             "blockOwnerDeletion": False}  # fmt: skip
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": plan_configmap_name(migration),
            "namespace": namespace,
            "labels": {**_LABELS, "ferry.dev/migration": migration[:63]},
            "annotations": {"ferry.dev/plan-hash": plan.hash},
            "ownerReferences": [owner],
        },
        "data": _with_snapshots(_bounded(plan, dialect_name, migration), plan),
    }


def _with_snapshots(data: dict[str, str], plan: Plan) -> dict[str, str]:
    if plan.snapshots is None:
        return data
    text = json.dumps(plan.snapshots, ensure_ascii=False, separators=(",", ":"))
    if len(text) + sum(len(v) for v in data.values()) > MAX_BYTES:
        text = json.dumps({**hashes(plan.snapshots), "bodiesOmitted": True}, separators=(",", ":"))
    data[SCHEMAS_JSON] = text
    return data
