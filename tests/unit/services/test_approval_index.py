"""The operator's index of MigrationApprovals: what a reconcile reads from it, and when a change
in it wakes a Migration awaiting approval at the next timer tick instead of the next re-check."""

from __future__ import annotations

from typing import Any

from ferry.services.approval_index import (
    ApprovalIndex,
    ApprovalsSeen,
    approvals_changed,
    approvals_seen,
    index_entry,
    indexed_approvals,
)
from ferry.services.approvals import Approval, approval_from, tally

PLAN = "a" * 64
OLD = "b" * 64


def _obj(name: str, migration: str, approver: str, version: str, plan_hash: str = PLAN) -> dict[str, Any]:
    """A MigrationApproval as the apiserver stores it (and as `read_approvals` lists it)."""
    return {
        "metadata": {"name": name, "namespace": "team-a", "resourceVersion": version},
        "spec": {
            "migrationRef": {"name": migration},
            "planHash": plan_hash,
            "approver": approver,
            "approverGroups": ["dba"],
        },
    }


def _index(*objs: dict[str, Any]) -> ApprovalIndex:
    """The index as kopf builds it: each object through the entry the operator's index function
    (ferry.controllers.approval.approval_index) returns, the values of one key collected."""
    index: dict[tuple[str, str], list[Any]] = {}
    for obj in objs:
        meta = obj["metadata"]
        entry = index_entry(meta["namespace"], meta["name"], meta["resourceVersion"], obj["spec"])
        for key, value in (entry or {}).items():
            index.setdefault(key, []).append(value)
    return index


def _seen(index: ApprovalIndex) -> ApprovalsSeen:
    return approvals_seen(index, "team-a", "orders")


ANN = _obj("ann-approves", "orders", "ann", "101")
BOB = _obj("bob-approves", "orders", "bob", "102")


def test_nothing_changed_wakes_nothing() -> None:
    remembered = _seen(_index(ANN))
    assert not approvals_changed(remembered, _seen(_index(ANN)))
    assert not approvals_changed((), _seen(_index()))


def test_a_new_approval_wakes_its_migration() -> None:
    remembered = _seen(_index(ANN))
    assert approvals_changed(remembered, _seen(_index(ANN, BOB)))


def test_a_deleted_approval_wakes_its_migration_and_no_longer_counts() -> None:
    before, after = _index(ANN, BOB), _index(ANN)
    assert approvals_changed(_seen(before), _seen(after))
    judged = tally(indexed_approvals(after, "team-a", "orders"), PLAN, None, None, verified=True)
    assert judged.counted == ("ann",)


def test_an_approval_deleted_and_created_again_under_its_name_wakes_its_migration() -> None:
    again = _obj("ann-approves", "orders", "ann", "205")  # same name and plan, a new object
    assert approvals_changed(_seen(_index(ANN)), _seen(_index(again)))


def test_another_migrations_approval_does_not_wake_this_one() -> None:
    other = _obj("ann-approves-users", "users", "ann", "103")
    assert not approvals_changed(_seen(_index(ANN)), _seen(_index(ANN, other)))


def test_before_any_reconcile_only_approvals_present_are_news() -> None:
    assert not approvals_changed(None, _seen(_index()))
    assert approvals_changed(None, _seen(_index(ANN)))


def test_the_index_reads_an_approval_as_the_listing_does() -> None:
    stale = _obj("bob-old", "orders", "bob", "99", OLD)
    listed = (approval_from(ANN), approval_from(stale))
    assert indexed_approvals(_index(ANN, stale), "team-a", "orders") == listed
    assert approval_from(ANN) == Approval("ann-approves", "ann", ("dba",), PLAN)
    assert indexed_approvals(_index(ANN), "team-a", "users") == ()
    assert indexed_approvals(_index(ANN), "team-b", "orders") == ()


def test_an_approval_naming_no_migration_is_not_indexed() -> None:
    orphan = _obj("nobody", "", "ann", "7")
    assert _index(orphan) == {}
