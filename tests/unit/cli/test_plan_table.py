"""`ferry plan`'s table in an 80-column terminal: every name whole, nothing cut off the edge."""

from __future__ import annotations

import io

from rich.console import Console

from ferry.cli.plan_render import print_plan
from ferry.schema.operations import Operation
from ferry.schema.plan import Plan

OPERATIONS = (
    Operation(kind="create_table", schema="public", table="playlist_track", risk="safe",
              reason="new table", detail="2 columns"),
    Operation(kind="drop_constraint", schema="public", table="invoice_line", risk="destructive",
              reason="not on the source", detail="invoice_line_invoice_id_fkey",
              constraint_type="foreign_key", phase="post_data"),
    Operation(kind="create_materialized_view", schema="reporting", table="monthly_sales_by_genre",
              risk="safe", reason="new materialized view; refreshed after the load",
              detail="materialized view monthly_sales_by_genre", phase="post_data"),
    Operation(kind="set_sequence", schema="public", table="invoice_line", risk="safe",
              reason="ids continue", detail="invoice_line_id_seq", affected_rows=2240),
)  # fmt: skip


def rendered(width: int) -> list[str]:
    plan = Plan(operations=OPERATIONS, warnings=(), errors=(), source_hash="s", target_hash="t",
                mode="diff", hash="h")  # fmt: skip
    out = io.StringIO()
    console = Console(file=out, width=width, color_system=None)
    print_plan(console, "move", plan.to_dict(), refused=None)
    return out.getvalue().splitlines()


def test_an_80_column_terminal_shows_every_kind_and_table_whole() -> None:
    lines = rendered(80)
    assert max(len(line) for line in lines) <= 80
    table_rows = [line for line in lines if line.startswith(("│", "┃"))]
    assert all(line.endswith(("│", "┃")) for line in table_rows)  # no column cut off the edge
    text = "\n".join(lines)
    for op in OPERATIONS:
        assert f" {op.kind} " in text
        assert f" {op.qualified_table} " in text
    assert "2,240 rows" in text  # details and reasons wrap; names of up to 32 characters do not
    phases = ["pre-data", "post-data", "data"]
    assert [p for p in phases if f" {p} " in text] == phases


def test_a_wide_terminal_keeps_each_operation_on_two_lines() -> None:
    lines = rendered(160)
    assert max(len(line) for line in lines) <= 160
    assert any("create_materialized_view" in line and "safe" in line for line in lines)
    assert any("reporting.monthly_sales_by_genre" in line for line in lines)
    assert any("invoice_line_invoice_id_fkey" in line for line in lines)
