"""The operator's kopf index of MigrationApprovals, and when a change in it wakes a Migration.

kopf keeps the index current from its watch of MigrationApprovals
(ferry.controllers.approval.approval_index): (namespace, Migration name) -> each approval of
that Migration, as the watch last saw it. The reconciler reads a Migration's approvals here
instead of listing them from the API, and the timer of a Migration awaiting approval, which
otherwise looks again only every APPROVAL_RECHECK_SECONDS, reconciles at its next tick when
the approvals in the index differ from those its last reconcile saw: an approval (or its
deletion) takes effect within one tick, not one re-check.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from ferry.services.approvals import Approval, approval_from

# (namespace, Migration name) -> that Migration's approvals, each {"metadata": {name,
# resourceVersion}, "spec": ...}: the shape of the object itself, so one parser reads both.
ApprovalIndex = Mapping[tuple[str, str], Collection[Mapping[str, Any]]]

# What a reconcile saw of a Migration's approvals: (name, resourceVersion, planHash), sorted.
# The resourceVersion tells an approval deleted and created again under its name from the old one.
ApprovalsSeen = tuple[tuple[str, str, str], ...]


def index_entry(
    namespace: str, name: str, resource_version: str, spec: Mapping[str, Any]
) -> dict[tuple[str, str], dict[str, Any]] | None:
    """One approval's entry: keyed by the Migration it names; None (not indexed) without one."""
    migration = (spec.get("migrationRef") or {}).get("name")
    if not migration:
        return None
    obj = {"metadata": {"name": name, "resourceVersion": resource_version}, "spec": dict(spec)}
    return {(namespace, str(migration)): obj}


def indexed_approvals(index: ApprovalIndex, namespace: str, migration: str) -> tuple[Approval, ...]:
    """A Migration's approvals from the index, as `read_approvals` lists them from the API."""
    return tuple(approval_from(obj) for obj in index.get((namespace, migration), ()))


def approvals_seen(index: ApprovalIndex, namespace: str, migration: str) -> ApprovalsSeen:
    entries = (
        (
            str(obj["metadata"]["name"]),
            str(obj["metadata"].get("resourceVersion", "")),
            str((obj.get("spec") or {}).get("planHash", "")),
        )
        for obj in index.get((namespace, migration), ())
    )
    return tuple(sorted(entries))


def approvals_changed(remembered: ApprovalsSeen | None, current: ApprovalsSeen) -> bool:
    """The wake-up decision: True when a Migration's approvals in the index differ from those
    its last reconcile saw (one added, deleted, or replaced), so the next timer tick reconciles
    it without waiting for the re-check it asked for. `remembered` None: no reconcile in this
    process yet, which the timer runs anyway; only approvals present then are news."""
    return (remembered or ()) != current
