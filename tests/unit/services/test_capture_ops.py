"""Online mode's gate and the capture health rule: pure decisions, no database."""

from __future__ import annotations

from typing import Any

import pytest

from ferry.api.connection import DatabaseConnectionSpec
from ferry.db.credentials import Credentials
from ferry.services import capture_ops
from ferry.services.capture_ops import CaptureHealth, capture_warning, online_refusals, plan_with_capture
from ferry.services.planning import Side
from unit.services.fake_ports import plan, spec


def side(engine: str, **extra: Any) -> Side:
    fields: dict[str, Any] = {"engine": engine, "database": "shop"}
    if engine != "sqlite":
        fields |= {"host": "db", "credentialsSecretRef": {"name": "creds"}}
    return Side(DatabaseConnectionSpec.model_validate(fields | extra), Credentials("app", "pw"))


PG, MARIADB = side("postgresql"), side("mariadb")


def test_offline_is_never_refused() -> None:
    assert online_refusals(spec(), side("sqlite"), MARIADB) == []


def test_a_sqlite_source_has_no_capture() -> None:
    [problem] = online_refusals(spec(mode="online"), side("sqlite"), PG)
    assert "sqlite has none in Ferry" in problem


@pytest.mark.parametrize(
    ("source", "target", "expected"),
    [
        (PG, PG, []),
        (MARIADB, PG, []),
        (
            PG,
            MARIADB,
            ["online mode writes to a PostgreSQL target only, not yet to mariadb (use mode: offline)"],
        ),
    ],
)
def test_online_needs_a_pg_target(source: Side, target: Side, expected: list[str]) -> None:
    assert online_refusals(spec(mode="online"), source, target) == expected


def test_online_refuses_filters_naming_the_tables() -> None:
    filtered = spec(
        mode="online",
        tables={"overrides": [{"name": "orders", "where": "id > 10"}, {"name": "lines"}]},
    )
    [problem] = online_refusals(filtered, PG, PG)
    assert "`where` filter" in problem and "orders" in problem and "lines" not in problem


@pytest.mark.parametrize(
    ("health", "warned"),
    [
        (CaptureHealth("s", retained_bytes=1 << 20, wal_status="reserved"), None),
        (CaptureHealth("s", retained_bytes=None, wal_status=None), None),  # binlog: cannot tell
        (CaptureHealth("s", retained_bytes=(1 << 30) + 1), "retains 1.0 GiB"),
        (CaptureHealth("s", retained_bytes=10, wal_status="unreserved"), "wal_status unreserved"),
        (CaptureHealth("s", retained_bytes=10, wal_status="lost"), "wal_status lost"),
        (CaptureHealth("s", exists=False), "is gone from the source"),
    ],
)
def test_capture_warning(health: CaptureHealth, warned: str | None) -> None:
    warning = capture_warning(health)
    assert (warning is None) if warned is None else (warning is not None and warned in warning)


class Capture:
    def __init__(self, problems: list[str]) -> None:
        self.problems = problems

    def check(self, source: Side, mappings: Any) -> list[str]:
        return self.problems


def test_the_capture_problems_become_plan_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(capture_ops, "plan_migration", lambda *a, **k: plan())
    capture: Any = Capture(["wal_level is replica; set wal_level = logical"])
    planned = plan_with_capture(spec(mode="online"), PG, PG, capture)
    assert planned.plan.errors == ("online mode: wal_level is replica; set wal_level = logical",)
    assert planned.capture_problems == planned.plan.errors
    # Offline plans are left alone; without a capture to ask, a warning says it was not checked.
    assert plan_with_capture(spec(), PG, PG, capture).plan.errors == ()
    unchecked = plan_with_capture(spec(mode="online"), PG, PG, None).plan
    assert unchecked.errors == () and "not checked" in unchecked.warnings[-1]
    refused = plan_with_capture(spec(mode="online"), PG, MARIADB, capture)
    assert refused.capture_problems and "PostgreSQL target only" in refused.plan.errors[0]


def test_native_apply_asked_for_between_other_engines_is_refused_in_the_plan() -> None:
    native = spec(mode="online", online={"apply": "native"})
    [problem] = online_refusals(native, MARIADB, PG)
    assert "spec.online.apply: native needs PostgreSQL on both sides" in problem
    assert online_refusals(native, PG, PG) == []
    assert online_refusals(spec(mode="online", online={"apply": "auto"}), MARIADB, PG) == []
