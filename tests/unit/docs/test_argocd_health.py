"""The Argo CD health scripts of docs/gitops.md, run in a real Lua runtime against Migration,
DatabaseConnection and Project statuses the operator writes (from the reconciler's own
transitions, tests/unit/docs/health_cases.py), so the scripts and the transitions agree."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from ferry.api import conditions as c
from ferry.api.migration import MigrationStatus, Phase, ReplicationStatus

from .health_cases import KINDS, Case, cases, every_migration_phase_is_covered

lupa = pytest.importorskip("lupa", reason="the Lua runtime (dev dependency lupa)")

GITOPS = Path(__file__).resolve().parents[3] / "docs" / "gitops.md"


def _script(kind: str) -> str:
    key = f"resource.customizations.health.ferry.dev_{kind}"
    blocks = re.findall(r"```yaml\n(.*?)```", GITOPS.read_text(), flags=re.S)
    block = next(b for b in blocks if key in b)
    script: str = yaml.safe_load(block)["data"][key]
    return script


def evaluate(obj: dict[str, Any]) -> tuple[str, str]:
    runtime = lupa.LuaRuntime(unpack_returned_tuples=True)
    runtime.execute("function health(obj)\n" + _script(obj["kind"]) + "\nend")
    result = runtime.globals().health(runtime.table_from(obj, recursive=True))
    return str(result["status"]), str(result["message"])


def health(status: MigrationStatus, generation: int = 1) -> tuple[str, str]:
    case = Case("Migration", "", status.to_wire(), "", "", generation)
    return evaluate(case.obj())


@pytest.mark.parametrize("case", cases(), ids=lambda case: case.id)
def test_argo_cd_reads_what_the_docs_say(case: Case) -> None:
    state, message = evaluate(case.obj())
    assert state == case.argo, message
    assert message and message != "nil"


def test_the_cases_reach_every_phase_and_kind() -> None:
    assert every_migration_phase_is_covered() == set()
    assert {case.kind for case in cases()} == set(KINDS)


def test_following_is_healthy_with_its_lag() -> None:
    st = MigrationStatus()
    st.mark_following("copy done; job shop-follow-1 applies the source's changes", 1)
    st.replication = ReplicationStatus(state="Following", lag_seconds=0.4)
    assert health(st) == ("Healthy", "Following, lag 0.4s")


def test_a_changed_source_table_is_degraded_with_the_message() -> None:
    st = MigrationStatus()
    st.mark_following("following", 1)
    st.mark_stalled(
        c.SOURCE_SCHEMA_CHANGED, "the source's structure changed: table public.orders: column note", 1
    )
    assert st.phase == Phase.FOLLOWING
    state, message = health(st)
    assert state == "Degraded" and "table public.orders" in message


def test_a_failing_connection_shows_its_reason() -> None:
    case = next(case for case in cases() if case.id == "DatabaseConnection-unreachable")
    assert evaluate(case.obj()) == ("Degraded", "Unreachable: db.internal:5432 refused the connection")


def test_a_refused_project_namespace_shows_its_reason() -> None:
    case = next(case for case in cases() if case.id == "Project-namespace-owned-elsewhere")
    assert evaluate(case.obj()) == ("Degraded", 'NamespaceOwnedElsewhere: belongs to Project "b"')
