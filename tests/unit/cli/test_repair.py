"""`kubectl ferry repair`: which Migrations it refuses, and why."""

from __future__ import annotations

from ferry.api import conditions as c
from ferry.api.migration import MigrationStatus, Phase
from ferry.api.migration_validation import ValidationStatus
from ferry.cli.repair import repair_refusal


def _failed(reason: str, ranges: list[str]) -> MigrationStatus:
    status = MigrationStatus()
    status.mark_failed(reason, "why", 1, "2026-11-30T00:00:00Z")
    status.validation = ValidationStatus(run=1, job_name="m-validate-1", mismatched_ranges=ranges)
    return status


def test_a_validation_that_named_differing_ranges_may_be_repaired() -> None:
    assert repair_refusal(_failed(c.VALIDATION_FAILED, ["public.orders#2/5"])) is None


def test_anything_else_is_refused_with_why() -> None:
    running = MigrationStatus(phase=Phase.RUNNING)
    assert "is Running, not Failed by its validation" in (repair_refusal(running) or "")
    assert "not Failed by its validation" in (repair_refusal(_failed(c.JOB_FAILED, ["x"])) or "")
    assert "nothing to repair" in (repair_refusal(_failed(c.VALIDATION_FAILED, [])) or "")
