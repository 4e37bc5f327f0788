"""Personal data found by sampled values, on real PostgreSQL and MariaDB sources.

A table whose column names say nothing holds e-mails, phone numbers, card numbers, IBANs and IP
addresses beside innocuous columns (free text, product codes, 16-digit order numbers that fail
Luhn, integers). `ferry plan` must classify exactly the five personal ones, with counts as
evidence and no sampled value anywhere in its output; with `policy.personalData.unprotected:
deny` the plan is refused until each is transformed.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml

from ferry.cli import plan as plan_cli
from ferry.services.gate import Verdict
from harness.databases import Database
from integration.services.test_gate_paths import _connection, _operator_verdict

ROWS = 120  # more than the sample, so the sample's bound shows in the evidence


def _luhn_digit(body: str) -> int:
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return (10 - total % 10) % 10


def _iban(account: int) -> str:
    bban = f"37040044{account:010d}"
    check = 98 - int(bban + "131400") % 97  # D=13, E=14, then "00"
    return f"DE{check:02d}{bban}"


def _rows() -> list[dict[str, Any]]:
    rows = []
    for i in range(ROWS):
        card_body = f"411111{i:09d}"
        order_body = f"900000{i:09d}"
        rows.append({
            "id": i + 1, "contact": f"person{i}@example.org", "reach": f"+49 151 {1000000 + i}",
            "instrument": f"{card_body}{_luhn_digit(card_body)}", "account_ref": _iban(5320130 + i),
            "origin": f"198.51.{i // 200}.{i % 200 + 1}",
            "remark": f"delivered on time, box {i} of {ROWS}", "sku": f"SKU-{2024 + i % 3}-{i:06d}",
            "order_ref": f"{order_body}{(_luhn_digit(order_body) + 1) % 10}", "quantity": i % 7,
        })  # fmt: skip
    return rows


PERSONAL = {"contact": "email", "reach": "phone", "instrument": "payment_card", "account_ref": "payment_card",
            "origin": "ip_address"}  # fmt: skip


def _source_table(db: Database) -> list[dict[str, Any]]:
    engine = sa.create_engine(db.sqlalchemy_url())
    meta = sa.MetaData()
    names = ("contact", "reach", "instrument", "account_ref", "origin", "remark", "sku", "order_ref")
    text = [sa.Column(name, sa.String(120)) for name in names]
    table = sa.Table("ledger", meta, sa.Column("id", sa.Integer, primary_key=True), *text,
                     sa.Column("quantity", sa.Integer))  # fmt: skip
    rows = _rows()
    with engine.begin() as conn:
        meta.create_all(conn)
        conn.execute(table.insert(), rows)
    engine.dispose()
    return rows


def _bundle(source: Database, target: Database, migration: dict[str, Any]) -> str:
    schema = {"schema": "public"} if source.engine == "postgresql" else {}
    docs = [
        {"apiVersion": "ferry.dev/v1alpha1", "kind": "Project", "metadata": {"name": "team-a"},
         "spec": {"policy": {"personalData": {"unprotected": "deny"}}}},
        *_connection("src", source), *_connection("dst", target),
        {"apiVersion": "ferry.dev/v1alpha1", "kind": "Migration", "metadata": {"name": "move"},
         "spec": {"source": {"connectionRef": {"name": "src"}, **schema},
                  "target": {"connectionRef": {"name": "dst"}, "schema": "public"}, **migration}},
    ]  # fmt: skip
    return yaml.safe_dump_all(docs)


def _plan(bundle: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any], str]:
    parser = argparse.ArgumentParser(prog="ferry")
    plan_cli.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["plan", "-f", str(bundle), "--output", "json"])
    code: int = args.func(args)
    captured = capsys.readouterr()
    return code, json.loads(captured.out), captured.out + captured.err


@pytest.mark.parametrize("source_engine", ["postgresql", "mariadb"])
def test_personal_values_are_found_without_false_positives_and_the_policy_refuses_them(
    source_engine: str, request: pytest.FixtureRequest, pg_db2: Database, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    source: Database = request.getfixturevalue("pg_db" if source_engine == "postgresql" else "mariadb_db")
    rows = _source_table(source)
    bundle = tmp_path / "bundle.yaml"
    bundle.write_text(_bundle(source, pg_db2, {"schema": {"personalDataSample": 50}}))

    code, planned, output = _plan(bundle, capsys)
    assert code == 2 and planned["decision"] == "policy-violation"
    found = {p["column"]: p for p in planned["personalData"]}
    assert {column: p["category"] for column, p in found.items()} == PERSONAL
    assert found["contact"]["evidence"] == ["email: 50/50 sampled values match"]
    assert found["account_ref"]["evidence"] == ["iban: 50/50 sampled values match"]
    assert found["instrument"]["evidence"] == ["payment_card: 50/50 sampled values match"]
    assert all(p["protection"] is None for p in found.values())
    assert _operator_verdict(bundle.read_text()) == Verdict.POLICY_VIOLATION  # the operator's gate, too
    # Only counts: no sampled value of any column is in what `ferry plan` printed.
    for row in rows:
        for column in (
            "contact",
            "reach",
            "instrument",
            "account_ref",
            "origin",
            "remark",
            "sku",
            "order_ref",
        ):
            assert row[column] not in output

    transforms = [{"column": c, "type": "null"} for c in PERSONAL]
    protected = {"schema": {"personalDataSample": 50},
                 "tables": {"overrides": [{"name": "ledger", "transforms": transforms}]}}  # fmt: skip
    bundle.write_text(_bundle(source, pg_db2, protected))
    code, planned, _ = _plan(bundle, capsys)
    assert code == 0, planned.get("decisionMessage")
    assert {p["column"]: p["protection"] for p in planned["personalData"]} == dict.fromkeys(PERSONAL, "null")
    assert _operator_verdict(bundle.read_text()) == Verdict.RUN

    bundle.write_text(_bundle(source, pg_db2, {"schema": {"personalDataSample": 0}}))
    code, planned, _ = _plan(bundle, capsys)
    assert code == 0 and planned["personalData"] == []  # by name alone, none of these is personal
