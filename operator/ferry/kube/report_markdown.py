"""A run report (ferry.services.run_report) as Markdown, for a change ticket or an audit file.

The same facts as the JSON, in the order an auditor asks: outcome and errors, who approved
what, the DDL risk, personal data and what protected it, each table's rows, validation and
checksum, the schemas by hash, the script that ran. Pure: the operator keeps it in the report
ConfigMap beside the JSON, `kubectl ferry report --format md` and `ferry run --report FILE.md`
print it. Names are escaped for table cells; the report holds no value to escape.
"""

from __future__ import annotations

from typing import Any


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def _table(header: list[str], rows: list[list[object]]) -> list[str]:
    if not rows:
        return ["(none)", ""]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rows]
    return [*lines, ""]


def _section(title: str) -> list[str]:
    return [f"## {title}", ""]


def render_markdown(report: dict[str, Any], script: str | None = None) -> str:
    mig, outcome, plan = report["migration"], report["outcome"], report.get("plan") or {}
    lines = [f"# Run report: {mig['namespace']}/{mig['name']}", ""]
    lines += _table(["field", "value"], [
        ["phase", outcome.get("phase")], ["reason", outcome.get("reason")],
        ["message", outcome.get("message")], ["started", outcome.get("startTime")],
        ["completed", outcome.get("completionTime")], ["attempts", outcome.get("attempts")],
        ["mode", report.get("mode")], ["uid", mig.get("uid")], ["author", mig.get("author") or "not recorded"],
        ["source", f"{report['source']['connection']} (schema {report['source'].get('schema') or 'default'})"],
        ["target", f"{report['target']['connection']} (schema {report['target'].get('schema') or 'default'})"],
        ["reported", report.get("writtenAt")],
    ])  # fmt: skip
    lines += _section("Errors")
    lines += [f"- {_cell(e)}" for e in report.get("errors") or []] or ["(none)"]
    lines += [""]
    lines += _section("Plan and approvals")
    lines += [f"Plan `{plan.get('hash')}`: {plan.get('safe', 0)} safe, {plan.get('lossy', 0)} lossy, "
              f"{plan.get('destructive', 0)} destructive operations. spec.approval.planHash "
              f"{'matched' if report.get('approvedBySpecHash') else 'did not match'}.", ""]  # fmt: skip
    lines += _table(["approver", "MigrationApproval", "plan hash", "counted", "why not"], [
        [a.get("approver"), a.get("name"), a.get("planHash"), "yes" if a.get("counted") else "no",
         a.get("reason") or ""] for a in report.get("approvals") or []
    ])  # fmt: skip
    lines += _section("Personal data")
    personal = report.get("personalData")
    if personal is None:
        lines += [f"{plan.get('personalColumns', 0)} personal columns, "
                  f"{plan.get('unprotectedPersonalColumns', 0)} without a transform (details not kept).", ""]  # fmt: skip
    else:
        lines += _table(["table", "column", "category", "protection", "evidence"], [
            [p["table"], p["column"], p["category"], p.get("protection") or "NONE", "; ".join(p.get("evidence") or [])]
            for p in personal
        ])  # fmt: skip
    lines += _table(["transformed table", "column", "transform", "key Secret"], [
        [t["table"], t["column"], t["type"], t.get("keySecret") or ""] for t in report.get("transforms") or []
    ])  # fmt: skip
    lines += _section("Tables")
    lines += _table(["table", "state", "rows copied", "validation", "checksum"], [
        [t["name"], t.get("state"), t.get("rowsCopied", 0), t.get("validation") or "", t.get("checksum") or ""]
        for t in report.get("tables") or []
    ])  # fmt: skip
    lines += _section("Schemas")
    schemas = report.get("schemas") or {}
    lines += _table(["side", "schema", "sha256"], [
        [side, s.get("schema") or "default", s.get("hash")] for side in ("source", "target")
        for s in schemas.get(side) or []
    ])  # fmt: skip
    if script:
        lines += _section("Script")
        lines += ["```sql", script.rstrip("\n"), "```", ""]
    return "\n".join(lines)
