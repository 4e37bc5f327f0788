"""A Project's report retention: by age, by count, both, or nothing deleted."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from ferry.api.project import ProjectSpec
from ferry.api.project_reports import ReportRetention
from ferry.services.report_retention import KeptReport, expired

NOW = datetime(2026, 6, 1, tzinfo=UTC)
REPORTS = [KeptReport(f"r{days}", NOW - timedelta(days=days)) for days in (1, 10, 40, 100, 200)]


def test_nothing_is_deleted_without_a_rule() -> None:
    assert expired(REPORTS, ReportRetention(), NOW) == []


def test_by_age_the_older_go_oldest_first() -> None:
    assert expired(REPORTS, ReportRetention(retention="90d"), NOW) == ["r200", "r100"]
    assert expired(REPORTS, ReportRetention(retention="36h"), NOW) == ["r200", "r100", "r40", "r10"]


def test_by_count_the_newest_stay() -> None:
    assert expired(REPORTS, ReportRetention(max_count=2), NOW) == ["r200", "r100", "r40"]


def test_both_rules_each_delete() -> None:
    assert expired(REPORTS, ReportRetention(retention="30d", max_count=4), NOW) == ["r200", "r100", "r40"]


def test_the_project_spec_takes_it_and_refuses_a_bad_duration() -> None:
    spec = ProjectSpec.model_validate({"reports": {"retention": "90d", "maxCount": 500}})
    assert spec.reports.retention == "90d" and spec.reports.max_count == 500
    with pytest.raises(ValidationError):
        ProjectSpec.model_validate({"reports": {"retention": "3 months"}})
