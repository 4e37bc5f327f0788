"""The Argo CD health script of docs/gitops.md, run in a real Lua runtime against Migration
statuses the operator writes (from the reconciler, so the script and the transitions agree)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from ferry.api import conditions as c
from ferry.api.migration import MigrationStatus, Phase, ReplicationStatus

lupa = pytest.importorskip("lupa", reason="the Lua runtime (dev dependency lupa)")

GITOPS = Path(__file__).resolve().parents[3] / "docs" / "gitops.md"
KEY = "resource.customizations.health.ferry.dev_Migration"


def _script() -> str:
    blocks = re.findall(r"```yaml\n(.*?)```", GITOPS.read_text(), flags=re.S)
    block = next(b for b in blocks if KEY in b)
    script: str = yaml.safe_load(block)["data"][KEY]
    return script


def health(status: MigrationStatus, generation: int = 1) -> tuple[str, str]:
    runtime = lupa.LuaRuntime(unpack_returned_tuples=True)
    runtime.execute("function health(obj)\n" + _script() + "\nend")
    obj = {"metadata": {"generation": generation}, "status": status.to_wire()}
    result = runtime.globals().health(runtime.table_from(obj, recursive=True))
    return str(result["status"]), str(result["message"])


def _status(**marks: Any) -> MigrationStatus:
    st = MigrationStatus()
    for name, args in marks.items():
        getattr(st, name)(*args)
    return st


def test_following_is_healthy_with_its_lag() -> None:
    st = _status(mark_following=("copy done; job shop-follow-1 applies the source's changes", 1))
    st.replication = ReplicationStatus(state="Following", lag_seconds=0.4)
    assert health(st) == ("Healthy", "Following, lag 0.4s")


def test_cutting_over_is_progressing() -> None:
    st = _status(mark_cutting_over=("cutover requested", 1))
    assert health(st)[0] == "Progressing"


def test_a_changed_source_table_is_degraded_with_the_message() -> None:
    st = _status(mark_following=("following", 1))
    st.mark_stalled(
        c.SOURCE_SCHEMA_CHANGED, "the source's structure changed: table public.orders: column note", 1
    )
    assert st.phase == Phase.FOLLOWING
    state, message = health(st)
    assert state == "Degraded" and "table public.orders" in message


def test_a_capture_warning_keeps_following_healthy() -> None:
    st = _status(mark_following=("following", 1))
    st.mark_capture_health(False, "slot ferry_x retains 3.0 GiB of WAL", 1)
    assert health(st)[0] == "Healthy"


@pytest.mark.parametrize(
    ("marks", "expected"),
    [
        ({"mark_running": ("copying", 1)}, "Progressing"),
        ({"mark_succeeded": ("ok", 1, "2026-11-29T12:00:00Z")}, "Healthy"),
        ({"mark_failed": (c.JOB_FAILED, "3 attempts failed", 1, "2026-11-29T12:00:00Z")}, "Degraded"),
        ({"mark_suspended": (1,)}, "Suspended"),
    ],
)
def test_offline_phases_read_as_before(marks: dict[str, Any], expected: str) -> None:
    assert health(_status(**marks))[0] == expected


def test_an_unobserved_spec_is_progressing() -> None:
    st = _status(mark_following=("following", 1))
    assert health(st, generation=2)[0] == "Progressing"
