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


def _side(report: dict[str, Any], side: str) -> str:
    return f"{report[side]['connection']} (schema {report[side].get('schema') or 'default'})"


def _cpu(usage: dict[str, Any] | None) -> str:
    if not usage:
        return "not recorded"
    kinds = ", ".join(
        f"{kind} {usage.get(f'{kind}CpuSeconds', 0)}" for kind in ("copy", "validation", "follower")
    )
    return f"{usage.get('workerCpuSeconds', 0)} ({kinds})"


def _overview(report: dict[str, Any]) -> list[str]:
    mig, outcome = report["migration"], report["outcome"]
    rows: list[list[object]] = [
        ["phase", outcome.get("phase")],
        ["reason", outcome.get("reason")],
        ["message", outcome.get("message")],
        ["started", outcome.get("startTime")],
        ["completed", outcome.get("completionTime")],
        ["attempts", outcome.get("attempts")],
        ["worker CPU-seconds", _cpu(report.get("usage"))],
        ["mode", report.get("mode")],
        ["uid", mig.get("uid")],
        ["author", mig.get("author") or "not recorded"],
        ["source", _side(report, "source")],
        ["target", _side(report, "target")],
        ["reported", report.get("writtenAt")],
    ]
    return _table(["field", "value"], rows)


def _phases(report: dict[str, Any]) -> list[str]:
    rows: list[list[object]] = [
        [p.get("phase"), p.get("startedAt"), p.get("endedAt"), p.get("seconds")]
        for p in report.get("phases") or []
    ]
    return _table(["phase", "started", "ended", "seconds"], rows) if rows else ["(not recorded)", ""]


def _approvals(report: dict[str, Any]) -> list[str]:
    plan = report.get("plan") or {}
    matched = "matched" if report.get("approvedBySpecHash") else "did not match"
    lines = [
        f"Plan `{plan.get('hash')}`: {plan.get('safe', 0)} safe, {plan.get('lossy', 0)} lossy, "
        f"{plan.get('destructive', 0)} destructive operations. spec.approval.planHash {matched}.",
        "",
    ]
    rows: list[list[object]] = [
        [a.get("approver"), a.get("name"), a.get("planHash"), "yes" if a.get("counted") else "no",
         a.get("reason") or ""]
        for a in report.get("approvals") or []
    ]  # fmt: skip
    return lines + _table(["approver", "MigrationApproval", "plan hash", "counted", "why not"], rows)


def _personal(report: dict[str, Any]) -> list[str]:
    plan, personal = report.get("plan") or {}, report.get("personalData")
    if personal is None:
        lines = [
            f"{plan.get('personalColumns', 0)} personal columns, {plan.get('unprotectedPersonalColumns', 0)} "
            "without a transform (details not kept).",
            "",
        ]
    else:
        rows: list[list[object]] = [
            [p["table"], p["column"], p["category"], p.get("protection") or "NONE",
             "; ".join(p.get("evidence") or [])]
            for p in personal
        ]  # fmt: skip
        lines = _table(["table", "column", "category", "protection", "evidence"], rows)
    transforms: list[list[object]] = [
        [t["table"], t["column"], t["type"], t.get("keySecret") or ""] for t in report.get("transforms") or []
    ]
    return lines + _table(["transformed table", "column", "transform", "key Secret"], transforms)


def _tables(report: dict[str, Any]) -> list[str]:
    rows: list[list[object]] = [
        [
            t["name"],
            t.get("state"),
            t.get("rowsCopied", 0),
            t.get("validation") or "",
            t.get("checksum") or "",
        ]
        for t in report.get("tables") or []
    ]
    return _table(["table", "state", "rows copied", "validation", "checksum"], rows)


def _schemas(report: dict[str, Any]) -> list[str]:
    schemas = report.get("schemas") or {}
    rows: list[list[object]] = [
        [side, s.get("schema") or "default", s.get("hash")]
        for side in ("source", "target")
        for s in schemas.get(side) or []
    ]
    return _table(["side", "schema", "sha256"], rows)


def render_markdown(report: dict[str, Any], script: str | None = None) -> str:
    mig = report["migration"]
    lines = [f"# Run report: {mig['namespace']}/{mig['name']}", "", *_overview(report)]
    lines += _section("Errors")
    lines += [f"- {_cell(e)}" for e in report.get("errors") or []] or ["(none)"]
    lines += [""]
    lines += [*_section("Phases"), *_phases(report)]
    lines += [*_section("Plan and approvals"), *_approvals(report)]
    lines += [*_section("Personal data"), *_personal(report)]
    lines += [*_section("Tables"), *_tables(report)]
    lines += [*_section("Schemas"), *_schemas(report)]
    if script:
        lines += [*_section("Script"), "```sql", script.rstrip("\n"), "```", ""]
    return "\n".join(lines)
