"""What of a Migration's status the operator writes, and which of it changed since the last write.

The operator owns every status field but `workers` and `validationWorkers` (each pod's own
entry) and the follower's part of `replication`. A reconcile that changes nothing must cost no
API write: a timer tick of a Migration awaiting approval, or a Running one whose workers
reported nothing new, patches nothing. The diff is per top-level field (a changed field is sent
whole, as a JSON merge patch replaces lists anyway), which keeps it simple and still skips the
common case: no change.
"""

from __future__ import annotations

from typing import Any

from ferry.api.migration import MigrationStatus

# status.replication keys the operator writes; the follower writes the others.
_OPERATOR_REPLICATION_KEYS = {"start_position", "health_checked_at"}


def owned_status(status: MigrationStatus) -> dict[str, Any]:
    """The operator's fields in wire form. Unset top-level fields are null: a merge patch keeps
    fields it does not mention, so a cleared nextAttemptTime (say) would otherwise come back."""
    wire = status.to_wire()
    for field_name, info in MigrationStatus.model_fields.items():
        if getattr(status, field_name) is None:
            wire[info.alias or field_name] = None
    wire.pop("workers", None)
    wire.pop("validationWorkers", None)
    wire.pop("replication", None)
    if status.replication is not None:
        owned = status.replication.model_dump(
            by_alias=True, include=_OPERATOR_REPLICATION_KEYS, exclude_none=True
        )
        if owned:
            wire["replication"] = owned
    return wire


def changed_fields(new: dict[str, Any], *bases: dict[str, Any] | None) -> dict[str, Any]:
    """The top-level fields of `new` that differ from any known base (every field when no base is
    known). Two bases, because neither alone is certain: what this process last wrote (the object
    it reconciles from a watch may not show that write yet) and what the object held when it was
    read (someone else may have written since). A base is unknown (None) before this process's
    first write: then the object as read is the one base."""
    known = [base for base in bases if base is not None]
    if not known:
        return dict(new)
    keys = set(new).union(*known)
    return {key: new.get(key) for key in sorted(keys) if any(new.get(key) != base.get(key) for base in known)}
