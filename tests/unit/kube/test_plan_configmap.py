"""The ConfigMap that keeps a Migration's whole plan: complete when it fits, bounded when not."""

from __future__ import annotations

import json

import pytest

from ferry.kube import plan_configmap
from ferry.kube.plan_configmap import PLAN_JSON, PLAN_SQL, build_plan_configmap
from ferry.schema.model import Column, Table
from ferry.schema.operations import Operation
from ferry.schema.plan import Plan


def _plan(tables: int) -> Plan:
    def create(i: int) -> Operation:
        column = Column(name="id", type="integer", nullable=False)
        table = Table(schema="public", name=f"t{i}", columns=(column,))
        return Operation(kind="create_table", schema="public", table=f"t{i}", risk="safe", reason="new table",
                         detail="1 column", table_def=table)  # fmt: skip

    ops = tuple(create(i) for i in range(tables))
    return Plan(ops, ("a warning",), (), "s", "t", "diff", hash="f" * 64)


def test_a_plan_that_fits_is_kept_whole_with_its_ddl_and_script() -> None:
    configmap = build_plan_configmap("team-a", "shop", "uid-1", _plan(3), "postgresql")
    meta = configmap["metadata"]
    assert meta["name"] == "ferry-plan-shop" and meta["namespace"] == "team-a"
    assert meta["ownerReferences"][0]["uid"] == "uid-1"
    assert meta["ownerReferences"][0]["blockOwnerDeletion"] is False  # no finalizers permission needed
    document = json.loads(configmap["data"][PLAN_JSON])
    assert [op["sql"][0].split("(")[0].strip() for op in document["operations"]] == [
        f"CREATE TABLE public.t{i}" for i in range(3)
    ]
    assert document["warnings"] == ["a warning"] and "operationsOmitted" not in document
    assert "CREATE TABLE public.t2 (" in configmap["data"][PLAN_SQL]


def test_a_plan_too_large_drops_ddl_then_operations_and_counts_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(plan_configmap, "MAX_BYTES", 20_000)
    configmap = build_plan_configmap("team-a", "shop", "uid-1", _plan(400), "postgresql")
    data = configmap["data"]
    assert len(data[PLAN_JSON]) + len(data[PLAN_SQL]) <= 20_000
    document = json.loads(data[PLAN_JSON])
    assert "sql" not in document["operations"][0]
    assert len(document["operations"]) + document["operationsOmitted"] == 400
    assert data[PLAN_SQL].startswith("-- the script of this plan is over")
