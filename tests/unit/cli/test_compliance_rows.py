"""`kubectl ferry compliance` rows from run reports, and the pure parts of diff and access-review."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ferry.cli.access_review import _secret_names
from ferry.cli.compliance import period, rows
from ferry.kube.report_markdown import render_markdown
from ferry.schema.snapshots import differences

NOW = datetime(2026, 6, 30, 12, tzinfo=UTC)


def _report(name: str, days_ago: int, **extra: Any) -> dict[str, Any]:
    written = (NOW - timedelta(days=days_ago)).isoformat().replace("+00:00", "Z")
    return {
        "kind": "MigrationRunReport", "writtenAt": written,
        "migration": {"name": name, "namespace": "team-a", "uid": f"uid-{name}", "author": "dev"},
        "outcome": {"phase": "Succeeded", "completionTime": written},
        "source": {"connection": "src"}, "target": {"connection": "dst"},
        "plan": {"hash": "h", "safe": 3, "lossy": 1, "destructive": 0, "unprotectedPersonalColumns": 0},
        "approvals": [
            {"name": "a1", "approver": "ann", "planHash": "h", "counted": True},
            {"name": "a2", "approver": "dev", "planHash": "h", "counted": False, "reason": "four eyes"},
        ],
        "personalData": [
            {"table": "public.customer", "column": "email", "category": "email", "protection": "hash",
             "evidence": ["name", "email: 100/100 sampled values match"]},
        ],
        "tables": [
            {"name": "public.customer", "state": "validated", "rowsCopied": 10, "validation": "ok: rows",
             "checksum": "sha256:ab"},
        ],
        **extra,
    }  # fmt: skip


def test_rows_in_the_period_with_approvers_personal_data_validation_and_risk() -> None:
    failed_tables = [{"name": "t", "state": "done", "validation": "row count differs: source 2, target 3"}]
    reports = [_report("old", 40), _report("ok", 3), _report("bad", 1, tables=failed_tables)]
    listed = rows(reports, timedelta(days=30), NOW)
    assert [r["migration"] for r in listed] == ["ok", "bad"]
    ok, bad = listed
    assert ok["approvers"] == ["ann"]  # the author's own approval did not count
    assert ok["personalData"] == [
        {"column": "public.customer.email", "category": "email", "protection": "hash"}
    ]
    assert ok["validation"] == "ok (rows and checksums)" and ok["ddlRisk"] == "1 lossy"
    assert bad["validation"] == "failed: 1 of 1 tables"


def test_a_period_is_days_or_hours() -> None:
    assert period("30d") == timedelta(days=30) and period("12h") == timedelta(hours=12)
    with pytest.raises(argparse.ArgumentTypeError, match="not a period"):
        period("1 month")


def test_differences_name_the_changed_thing() -> None:
    before = {"tables": {"t": {"columns": [{"name": "a", "type": "text"}, {"name": "b", "type": "int"}]}}}
    changed = [{"name": "a", "type": "varchar(80)"}, {"name": "c", "type": "int"}]
    after = {"tables": {"t": {"columns": changed}, "u": {"columns": []}}}
    assert differences(before, after) == [
        "changed tables.t.columns.a.type: 'text' -> 'varchar(80)'", "removed tables.t.columns.b",
        "added tables.t.columns.c", "added tables.u",
    ]  # fmt: skip
    assert differences(before, before) == []


def test_every_secret_a_connection_references_is_found() -> None:
    spec = {"credentialsSecretRef": {"name": "creds"}, "urlSecretRef": None,
            "tls": {"caSecretRef": {"name": "ca"}, "clientCertSecretRef": {"name": "client"}}}  # fmt: skip
    assert sorted(_secret_names(spec)) == ["ca", "client", "creds"]


def test_the_markdown_holds_every_section_and_escapes_names() -> None:
    report = _report("ok", 1, errors=["table a|b: failed"])
    text = render_markdown(report, "CREATE TABLE t (id int);\n")
    for heading in ("## Errors", "## Plan and approvals", "## Personal data", "## Tables", "## Schemas"):
        assert heading in text
    assert "table a\\|b: failed" in text  # a pipe in a name does not break the table
    assert "| public.customer | email | email | hash | name; email: 100/100 sampled values match |" in text
    assert "| ann | a1 | h | yes |  |" in text and "```sql\nCREATE TABLE t (id int);\n```" in text


def test_a_snapshot_kept_as_a_hash_only_still_says_that_the_schema_changed() -> None:
    from ferry.schema.model import DatabaseSchema
    from ferry.schema.snapshots import compare

    now = DatabaseSchema(dialect="postgresql", schema="public")
    assert compare([{"schema": "public", "hash": now.hash()}], [now])[0]["differences"] == []
    [changed] = compare([{"schema": "public", "hash": "0" * 64}], [now])
    assert changed["differences"] == [
        "changed: the snapshot was too large to keep, so only its hash is compared"
    ]
