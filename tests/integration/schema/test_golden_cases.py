"""Golden schema cases: one folder per case under tests/schema_cases/, run against real servers.

A folder holds `case.yaml` (source engine, schema mode, an optional Migration spec fragment),
`source.sql`, an optional `target.sql`, an optional `roles.sql` (run first as the superuser on
both databases: roles are the server's, and source.sql may hand objects to them), and the
expectations: `expect.sql` (the DDL the plan
renders, in order) and/or `expect.json` (operations with their risk, warnings, errors).
Every case without errors must also converge: after applying its plan, planning again gives
no operation. Set FERRY_UPDATE_GOLDEN=1 to write missing expectation files (then read them!).
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import yaml

from ferry.api.migration import MigrationSpec
from ferry.schema import Plan, apply_plan, build_plan, discover, render_ddl, select_tables
from ferry.schema.plan_join import join_plans
from ferry.schema.schema_pairs import schema_pairs
from ferry.schema.selection import select_schemas
from ferry.services.planning import privileges_option
from harness.databases import Database, PostgresServer
from integration.schema.loading import engine_for, run_sql

CASES_DIR = Path(__file__).resolve().parents[2] / "schema_cases"
CASES = sorted(p.name for p in CASES_DIR.iterdir() if (p / "case.yaml").exists())
UPDATE = os.environ.get("FERRY_UPDATE_GOLDEN") == "1"

pytestmark = pytest.mark.integration


def _spec(case: dict[str, Any]) -> MigrationSpec:
    fragment = case.get("migration") or {}
    return MigrationSpec.model_validate(
        {
            "source": {"connectionRef": {"name": "source"}},
            "target": {"connectionRef": {"name": "target"}},
            **fragment,
        }
    )


def _expect_json(plan: Any) -> dict[str, Any]:
    return {
        "operations": [[op.kind.value, op.qualified_table, op.risk, op.detail] for op in plan.operations],
        "warnings": list(plan.warnings),
        "errors": list(plan.errors),
    }


def _check(folder: Path, name: str, actual: str) -> None:
    path = folder / name
    if not path.exists():
        if UPDATE:
            path.write_text(actual)
            return
        pytest.fail(f"{folder.name}: no {name}; run with FERRY_UPDATE_GOLDEN=1 to write it")
    assert actual == path.read_text(), f"{folder.name}/{name} differs"


def _sqlite_source(folder: Path, tmp_path: Path) -> sa.Engine:
    """source: sqlite: source.sql run into a fresh database file."""
    path = tmp_path / "source.sqlite"
    with sqlite3.connect(path) as conn:
        conn.executescript((folder / "source.sql").read_text())
    return sa.create_engine(f"sqlite:///{path}", poolclass=sa.NullPool)


@pytest.mark.parametrize("case_name", CASES)
def test_schema_case(
    case_name: str, request: pytest.FixtureRequest, pg_db2: Database, tmp_path: Path
) -> None:
    folder = CASES_DIR / case_name
    case = yaml.safe_load((folder / "case.yaml").read_text()) or {}
    # `target: mariadb` plans into MariaDB; every other case into PostgreSQL.
    target_db: Database = request.getfixturevalue("mariadb_db") if case.get("target") == "mariadb" else pg_db2
    target_dialect = "mysql" if case.get("target") == "mariadb" else "postgresql"
    if case.get("source") == "sqlite":
        source_engine = _sqlite_source(folder, tmp_path)
    else:
        source_db: Database = request.getfixturevalue(
            "mariadb_db" if case.get("source") == "mariadb" else "pg_db"
        )
        if (folder / "roles.sql").exists():
            server: PostgresServer = request.getfixturevalue("pg_server")
            for db in (source_db, pg_db2):
                run_sql(server.as_superuser(db), (folder / "roles.sql").read_text())
        run_sql(source_db, (folder / "source.sql").read_text())
        source_engine = engine_for(source_db)
    if (folder / "target.sql").exists():
        run_sql(target_db, (folder / "target.sql").read_text())
    target_engine = engine_for(target_db)
    spec = _spec(case)
    mode = case.get("mode", "diff")

    options = {"mode": mode, "target_dialect": target_dialect, "privileges": privileges_option(spec)}

    def make_plan() -> Plan:
        if not spec.source.schemas:
            source = discover(source_engine, spec.source.schema_)
            mappings = select_tables(source, spec, target_dialect)
            return build_plan(source, discover(target_engine, spec.target.schema_), mappings, **options)
        # source.schemas: each pair planned on its own and joined, as ferry.services.planning does.
        pairs = schema_pairs(spec)
        sources = [discover(source_engine, p.source) for p in pairs]
        selected = select_schemas(
            [(s, p.target) for s, p in zip(sources, pairs, strict=True)], spec, "postgresql"
        )
        plans = []
        for i, (source, pair) in enumerate(zip(sources, pairs, strict=True)):
            others = [m for j, ms in enumerate(selected) if j != i for m in ms]
            target = discover(target_engine, pair.target)
            plans.append(build_plan(source, target, selected[i], **options, other_schemas=others))
        return join_plans(plans, [str(p.source) for p in pairs])

    plan = make_plan()

    # Data operations (what the copy converts) are in expect.json; only DDL is rendered and applied.
    statements = plan.pre_data + plan.post_data
    ddl = "".join(stmt + ";\n\n" for stmt in render_ddl(statements, target_dialect))
    wrote_any = False
    for name, text in (("expect.sql", ddl), ("expect.json", json.dumps(_expect_json(plan), indent=2) + "\n")):
        if (folder / name).exists() or UPDATE:
            _check(folder, name, text)
            wrote_any = True
    assert wrote_any, f"{case_name}: needs expect.sql or expect.json"

    if not plan.errors and mode != "none":
        apply_plan(target_engine, statements)
        again = make_plan()
        assert [op.to_dict() for op in again.operations if not op.is_data] == [], (
            f"{case_name}: plan does not converge after apply"
        )
