"""A worker copies only what was approved: its Job's plan must be the Migration's current plan, and
the selection it derives must match the plan's."""

from __future__ import annotations

from dataclasses import replace

from ferry.schema import ColumnMapping, TableMapping
from ferry.schema.plan import selection_hash
from ferry.worker.main import plan_refusal, selection_refusal

ORDERS = TableMapping(
    source_schema="public",
    source_table="orders",
    target_schema="public",
    target_table="orders",
    columns=(
        ColumnMapping("id", "id", "bigint", "bigint", False),
        ColumnMapping("note", "note", "text", "text", True),
    ),
    key=("id",),
    row_estimate=10,
)


def test_the_approved_selection_is_copied() -> None:
    approved = selection_hash([ORDERS])
    assert selection_refusal([ORDERS], approved) is None
    assert selection_refusal([replace(ORDERS, row_estimate=99)], approved) is None  # estimates drift


def test_a_filter_added_after_approval_is_refused() -> None:
    approved = selection_hash([ORDERS])
    refusal = selection_refusal([replace(ORDERS, where="note <> 'secret'")], approved)
    assert refusal is not None and "changed after its plan was approved" in refusal
    assert "secret" not in refusal  # the filter's text (it may hold values) is not repeated


def test_a_job_without_a_recorded_selection_copies() -> None:
    assert selection_refusal([ORDERS], "") is None


def test_table_order_does_not_matter() -> None:
    items = replace(ORDERS, source_table="items", target_table="items")
    assert selection_refusal([items, ORDERS], selection_hash([ORDERS, items])) is None


def test_a_job_of_the_current_plan_writes() -> None:
    assert plan_refusal("a1b2c3d4e5f6a7b8", "a1b2c3d4e5f6a7b8") is None
    assert plan_refusal("", "a1b2c3d4e5f6a7b8") is None  # a Job from before plans were hashed


def test_a_job_of_a_stale_plan_refuses_and_names_both_plans() -> None:
    refusal = plan_refusal("a1b2c3d4e5f6a7b8", "ffff0000eeee1111")
    assert refusal is not None
    assert "a1b2c3d4e5f6" in refusal and "ffff0000eeee" in refusal and "nothing was copied" in refusal
    # A Migration whose plan was cleared (planning again) refuses as well.
    assert plan_refusal("a1b2c3d4e5f6a7b8", "") is not None
