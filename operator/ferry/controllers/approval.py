"""MigrationApprovals: no handler, only kopf's index of them (ferry.services.approval_index).

The Migration controller reads a Migration's approvals from it, and its timer wakes a
Migration awaiting approval at the next tick when they changed. An index alone adds no
finalizer and patches nothing: kopf lists and watches the kind, which is all the operator's
ClusterRole grants on it.
"""

from __future__ import annotations

import copy
from typing import Any

import kopf

from ferry.api.kinds import GROUP, MIGRATION_APPROVAL, VERSION
from ferry.services.approval_index import index_entry


@kopf.index(GROUP, VERSION, MIGRATION_APPROVAL.plural)
def approval_index(
    namespace: str | None, name: str, meta: kopf.Meta, spec: kopf.Spec, **_: Any
) -> dict[tuple[str, str], dict[str, Any]] | None:
    """MigrationApprovals by (namespace, the Migration they name); kopf drops a deleted one."""
    version = str(meta.get("resourceVersion") or "")
    return index_entry(namespace or "", name, version, copy.deepcopy(dict(spec)))
