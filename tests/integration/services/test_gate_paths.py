"""One gate: the operator's reconciler, `ferry plan` and `ferry run` decide the same for the same spec.

Each case is a bundle (Project, connections, Migration) over real PostgreSQL databases. The
operator path runs the real reconciler with the real planner against those databases; only
its Kubernetes side is the fake of tests/unit/services (no apiserver in this tier). The CLI
paths run `ferry plan --output json` and `ferry run` on the same bundle text.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml

from ferry.api import conditions as c
from ferry.api.connection import DatabaseConnectionSpec
from ferry.api.migration import Phase
from ferry.cli import plan as plan_cli
from ferry.cli import run as run_cli
from ferry.cli.bundle import parse_bundle
from ferry.db.credentials import Credentials, resolve_credentials
from ferry.services.gate import Verdict
from ferry.services.migration import MigrationReconciler
from ferry.services.migration_ports import ConnectionLookup, MigrationContext, Sides
from ferry.services.planning import PlannedMigration, plan_migration
from harness.databases import Database
from unit.services.fake_ports import FakePorts

pytestmark = pytest.mark.integration


def _ferry(module: Any, *argv: str) -> int:
    parser = argparse.ArgumentParser(prog="ferry")
    module.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(list(argv))
    code: int = args.func(args)
    return code


def _connection(name: str, db: Database, read_only: bool = False) -> list[dict[str, Any]]:
    return [
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": f"{name}-creds"},
            "stringData": {"username": db.user, "password": db.password},
        },
        {
            "apiVersion": "ferry.dev/v1alpha1",
            "kind": "DatabaseConnection",
            "metadata": {"name": name},
            "spec": {
                "engine": db.engine, "host": db.host, "port": db.port, "database": db.name,
                "credentialsSecretRef": {"name": f"{name}-creds"}, "readOnly": read_only,
            },
        },
    ]  # fmt: skip


def _bundle(source: Database, target: Database, spec: dict[str, Any], policy: dict[str, Any],
            read_only: bool = False) -> str:  # fmt: skip
    migration = {
        "source": {"connectionRef": {"name": "src"}},
        "target": {"connectionRef": {"name": "dst"}, "schema": "public"},
        "schema": {"mode": "diff"},
        **spec,
    }
    docs = [
        {"apiVersion": "ferry.dev/v1alpha1", "kind": "Project", "metadata": {"name": "team-a"},
         "spec": {"policy": policy}},
        *_connection("src", source),
        *_connection("dst", target, read_only),
        {"apiVersion": "ferry.dev/v1alpha1", "kind": "Migration", "metadata": {"name": "move"},
         "spec": migration},
    ]  # fmt: skip
    return yaml.safe_dump_all(docs)


class DatabasePorts(FakePorts):
    """The fake Kubernetes side, with connections, credentials and the planner made real."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.bundle = parse_bundle(text)
        self.governance_ = self.bundle.governance()

    def connection(self, namespace: str, name: str) -> ConnectionLookup:
        return ConnectionLookup(self.bundle.connections[name])

    def credentials(self, namespace: str, connection: DatabaseConnectionSpec) -> Credentials:
        return resolve_credentials(connection, self.bundle.secrets)

    def plan(self, spec: Any, sides: Sides, owned_tables: list[str]) -> PlannedMigration:
        return plan_migration(spec, sides.source, sides.target, owned_tables=owned_tables)


_OPERATOR_VERDICT = {
    (Phase.RUNNING, c.RUNNING): Verdict.RUN,
    (Phase.AWAITING_APPROVAL, c.AWAITING_APPROVAL): Verdict.NEEDS_APPROVAL,
    (Phase.AWAITING_APPROVAL, c.APPROVAL_STALE): Verdict.APPROVAL_STALE,
    (Phase.PENDING, c.POLICY_VIOLATION): Verdict.POLICY_VIOLATION,
    (Phase.PENDING, c.TARGET_READ_ONLY): Verdict.TARGET_READ_ONLY,
    (Phase.PLANNING, c.PLAN_FAILED): Verdict.PLAN_ERRORS,
}


def _operator_verdict(text: str) -> Verdict:
    ports = DatabasePorts(text)
    _, spec = ports.bundle.migration()
    from ferry.api.migration import MigrationStatus

    ctx = MigrationContext("move", "team-a", "uid-gate", 1, spec, MigrationStatus())
    MigrationReconciler(ports).reconcile(ctx)
    ready = ctx.status.condition(c.READY)
    assert ready is not None
    return _OPERATOR_VERDICT[(ctx.status.phase, ready.reason)]


DESTRUCTIVE_NEEDS_APPROVAL = {"destructiveRequiresApproval": True}
ALLOW_DESTRUCTIVE_SUFFICES = {"destructiveRequiresApproval": False}
CASES = [
    ("plain copy", {"copy": {"onConflict": "skip"}}, {}, False, Verdict.RUN),
    ("truncate needs approval", {"copy": {"truncateTarget": True}}, {}, False, Verdict.NEEDS_APPROVAL),
    ("truncate allowed", {"copy": {"truncateTarget": True}, "schema": {"allowDestructive": True}},
     ALLOW_DESTRUCTIVE_SUFFICES, False, Verdict.RUN),
    ("policy insists", {"copy": {"truncateTarget": True}, "schema": {"allowDestructive": True}},
     DESTRUCTIVE_NEEDS_APPROVAL, False, Verdict.NEEDS_APPROVAL),
    ("overwrite", {"copy": {"onConflict": "update"}}, {}, False, Verdict.NEEDS_APPROVAL),
    ("stale approval", {"copy": {"truncateTarget": True}, "approval": {"planHash": "0" * 64}}, {}, False,
     Verdict.APPROVAL_STALE),
    ("delete truncates", {"copy": {"onConflict": "skip"}, "rollback": {"onDelete": "truncate"}}, {}, False,
     Verdict.NEEDS_APPROVAL),
    ("failure drops only created",
     {"copy": {"onConflict": "skip"}, "rollback": {"onFailure": "drop-created"}}, {}, False, Verdict.RUN),
    ("connection not allowed", {"copy": {"onConflict": "skip"}}, {"allowedConnections": ["prod-*"]}, False,
     Verdict.POLICY_VIOLATION),
    ("too parallel", {"copy": {"onConflict": "skip", "parallelism": 4}}, {"maxParallelism": 2}, False,
     Verdict.POLICY_VIOLATION),
    ("read-only target", {"copy": {"onConflict": "skip"}}, {}, True, Verdict.TARGET_READ_ONLY),
]  # fmt: skip


def _tables(source: Database, target: Database) -> None:
    with psycopg.connect(source.libpq_dsn(), autocommit=True) as conn:
        conn.execute("CREATE TABLE item (id integer PRIMARY KEY, name text NOT NULL)")
        conn.execute("INSERT INTO item SELECT g, 'n' || g FROM generate_series(1, 5) g")
    with psycopg.connect(target.libpq_dsn(), autocommit=True) as conn:
        conn.execute("CREATE TABLE item (id integer PRIMARY KEY, name text NOT NULL)")
        conn.execute("INSERT INTO item VALUES (1, 'kept'), (2, 'kept')")


@pytest.mark.parametrize(("spec", "policy", "read_only", "expected"), [case[1:] for case in CASES],
                         ids=[case[0] for case in CASES])  # fmt: skip
def test_the_operator_and_the_cli_decide_the_same(
    tmp_path: Path,
    pg_db: Database,
    pg_db2: Database,
    capsys: pytest.CaptureFixture[str],
    spec: dict[str, Any],
    policy: dict[str, Any],
    read_only: bool,
    expected: Verdict,
) -> None:
    _tables(pg_db, pg_db2)
    text = _bundle(pg_db, pg_db2, spec, policy, read_only)
    bundle = tmp_path / "bundle.yaml"
    bundle.write_text(text)

    plan_code = _ferry(plan_cli, "plan", "-f", str(bundle), "--output", "json")
    planned = json.loads(capsys.readouterr().out)
    assert planned["decision"] == expected, planned
    assert plan_code == (0 if expected == Verdict.RUN else 1 if expected == Verdict.PLAN_ERRORS else 2)

    # The operator decides before touching the target, so it runs before `ferry run` may copy.
    assert _operator_verdict(text) == expected

    run_code = _ferry(run_cli, "run", "-f", str(bundle), "--no-progress")
    out, err = capsys.readouterr()
    if expected == Verdict.RUN:
        assert run_code == 0, err + out
    else:
        assert run_code == 2 and err.startswith("refused: "), err


def test_truncating_a_table_with_rows_needs_allow_destructive_locally(
    tmp_path: Path, pg_db: Database, pg_db2: Database, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """Without a Project, local mode's policy: allowDestructive (or a matching hash) suffices."""
    monkeypatch.setenv("COLUMNS", "200")
    _tables(pg_db, pg_db2)
    docs = list(yaml.safe_load_all(_bundle(pg_db, pg_db2, {"copy": {"truncateTarget": True}}, {})))[1:]
    bundle = tmp_path / "bundle.yaml"
    bundle.write_text(yaml.safe_dump_all(docs))

    assert _ferry(plan_cli, "plan", "-f", str(bundle), "--output", "json") == 2
    planned = json.loads(capsys.readouterr().out)
    truncate = [op for op in planned["operations"] if op["kind"] == "truncate_table"]
    assert [(op["table"], op["risk"], op["affectedRows"]) for op in truncate] == [
        ("public.item", "destructive", 2)
    ]
    assert _ferry(plan_cli, "plan", "-f", str(bundle)) == 2
    out = capsys.readouterr().out
    lines = out.splitlines()
    first = next(i for i, line in enumerate(lines) if "truncate_table" in line)
    operation = "\n".join(lines[first : first + 4])  # kind above table; detail, reason, rows beside
    assert "public.item" in operation and "2 rows" in operation, out
    assert "refused" in out and "allowDestructive" in out

    docs[-1]["spec"]["schema"]["allowDestructive"] = True
    bundle.write_text(yaml.safe_dump_all(docs))
    assert _ferry(plan_cli, "plan", "-f", str(bundle)) == 0
    capsys.readouterr()
    assert _ferry(run_cli, "run", "-f", str(bundle), "--no-progress") == 0
    with psycopg.connect(pg_db2.libpq_dsn()) as conn:
        names = conn.execute("SELECT name FROM item ORDER BY id").fetchall()
    assert names == [("n1",), ("n2",), ("n3",), ("n4",), ("n5",)]  # the target's own rows are gone


def test_personal_data_without_a_transform_is_refused_where_the_project_denies_it(
    tmp_path: Path, pg_db: Database, pg_db2: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    """policy.personalData.unprotected: deny — the operator, `ferry plan` and `ferry run` refuse a
    plan that copies `email` and `phone` as they are, and accept it once both are transformed."""
    with psycopg.connect(pg_db.libpq_dsn(), autocommit=True) as conn:
        conn.execute("CREATE TABLE customer (id integer PRIMARY KEY, email text, phone text, city text)")
        conn.execute("INSERT INTO customer VALUES (1, 'ann@example.com', '+1 555 0100', 'Oslo')")
    deny = {"personalData": {"unprotected": "deny"}}
    bundle = tmp_path / "bundle.yaml"
    bundle.write_text(_bundle(pg_db, pg_db2, {}, deny))

    assert _ferry(plan_cli, "plan", "-f", str(bundle), "--output", "json") == 2
    planned = json.loads(capsys.readouterr().out)
    assert planned["decision"] == Verdict.POLICY_VIOLATION
    assert [(p["column"], p["category"], p["protection"]) for p in planned["personalData"]] == [
        ("email", "email", None), ("phone", "phone", None)
    ]  # fmt: skip
    assert _operator_verdict(bundle.read_text()) == Verdict.POLICY_VIOLATION
    assert _ferry(run_cli, "run", "-f", str(bundle), "--no-progress") == 2
    err = capsys.readouterr().err
    assert "personal data copied without a transform" in err
    assert "public.customer.email (email), public.customer.phone (phone)" in err

    transforms = [{"column": "email", "type": "mask", "keepLast": 12}, {"column": "phone", "type": "null"}]
    spec = {"tables": {"overrides": [{"name": "customer", "transforms": transforms}]}}
    bundle.write_text(_bundle(pg_db, pg_db2, spec, deny))
    assert _ferry(plan_cli, "plan", "-f", str(bundle), "--output", "json") == 0
    planned = json.loads(capsys.readouterr().out)
    assert [p["protection"] for p in planned["personalData"]] == ["mask", "null"]
    assert _ferry(run_cli, "run", "-f", str(bundle), "--no-progress") == 0
    with psycopg.connect(pg_db2.libpq_dsn()) as conn:
        assert conn.execute("SELECT email, phone, city FROM customer").fetchall() == [
            ("***@example.com", None, "Oslo")
        ]
