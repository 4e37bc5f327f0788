"""The plan as a table for a terminal, from its document form (`Plan.to_dict()`).

One renderer for both places a plan comes from: `ferry plan -f` (a Plan made here) and
`kubectl ferry plan mig/NAME` (the document the operator kept in a ConfigMap).
"""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table as RichTable

RISK_STYLE = {"safe": "green", "lossy": "yellow", "destructive": "bold red"}
MAX_PERSONAL_SHOWN = 30


def _table(console: Console, name: str, document: dict[str, Any]) -> RichTable:
    """One row per operation, under a heading per phase: the kind above the table name in one
    column wide enough for both, detail and reason in one column that wraps, so the table stays
    whole in an 80-column terminal."""
    operations: list[dict[str, Any]] = document["operations"]
    table = RichTable(title=f"Migration {name}: schema plan (mode {document['mode']})", title_justify="left")
    # Widths set here: rich's own shrinking crops the last column when a terminal is narrow.
    number = len(str(len(operations)))
    risk_width = max(len(r) for r in RISK_STYLE)
    room = console.width - 13 - number - risk_width  # 5 rules and 2 spaces of padding per column
    longest = max((len(str(op[k])) for op in operations for k in ("kind", "table")), default=9)
    names = max(min(longest, room - 22), 17)  # detail keeps at least 22 columns
    table.add_column("#", justify="right", width=number)
    table.add_column("operation / table", overflow="fold", width=names)
    table.add_column("risk", width=risk_width)
    table.add_column("detail / reason", overflow="fold", width=max(room - names, 10))
    phase = None
    for i, op in enumerate(operations, 1):
        if op["phase"] != phase:
            if phase is not None:
                table.add_section()
            phase = op["phase"]
            table.add_row("", f"[bold]{phase.replace('_', '-')}[/]", "", "")
        what = [escape(op["detail"])] if op["detail"] else []
        what += [f"[dim]{escape(op['reason'])}[/]"] if op["reason"] else []
        what += [f"{op['affectedRows']:,} rows"] if op.get("affectedRows") else []
        risk = f"[{RISK_STYLE[op['risk']]}]{op['risk']}[/]"
        table.add_row(str(i), f"{op['kind']}\n{escape(op['table'])}", risk, "\n".join(what))
    return table


def _print_personal(console: Console, personal: list[dict[str, Any]]) -> None:
    if not personal:
        return
    bare = sum(1 for c in personal if not c["protection"])
    console.print(f"personal data: {len(personal)} columns, {bare} without a transform")
    for c in personal[:MAX_PERSONAL_SHOWN]:
        how = c["protection"] or "[yellow]copied as is[/]"
        where = escape(f"{c['table']}.{c['column']}")
        why = escape("; ".join(c.get("evidence") or []))  # counts and "name": never a value
        console.print(f"  {where}  {c['category']}  {how}" + (f"  ({why})" if why else ""), highlight=False)
    if len(personal) > MAX_PERSONAL_SHOWN:
        console.print(f"  … {len(personal) - MAX_PERSONAL_SHOWN} more (--output json lists all)")


def print_plan(console: Console, name: str, document: dict[str, Any], refused: str | None) -> None:
    """The table, the counts and hash, every warning and error, and why it may not run."""
    if document["operations"]:
        console.print(_table(console, name, document))
    else:
        console.print(f"Migration {name}: no schema change needed (mode {document['mode']}).")
    omitted = document.get("operationsOmitted", 0)
    if omitted:
        console.print(f"[yellow]{omitted} more operations not kept (the plan is too large); "
                      "`ferry plan -f` shows all[/]")  # fmt: skip
    console.print(
        "  ".join(f"[{RISK_STYLE[risk]}]{risk}: {n}[/]" for risk, n in document["counts"].items())
        + f"   plan hash {document['hash']}"
    )
    _print_personal(console, document.get("personalData") or [])
    for warning in document["warnings"]:
        console.print(f"[yellow]warning:[/] {escape(warning)}", highlight=False)
    for error in document["errors"]:
        console.print(f"[bold red]error:[/] {escape(error)}", highlight=False)
    if refused:
        console.print(f"[bold red]refused:[/] {escape(refused)}", highlight=False)
