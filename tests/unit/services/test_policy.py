"""Project policy as it applies to a Migration."""

from __future__ import annotations

from ferry.api.migration import MigrationSpec
from ferry.api.project import ProjectPolicy
from ferry.services.policy import needs_approval, policy_violations


def _spec(**extra: object) -> MigrationSpec:
    return MigrationSpec.model_validate(
        {
            "source": {"connectionRef": {"name": "legacy"}},
            "target": {"connectionRef": {"name": "modern"}},
            **extra,
        }
    )


def test_defaults_allow_everything() -> None:
    assert policy_violations(_spec(), ProjectPolicy(), parallelism=2) == []


def test_each_violation_is_named() -> None:
    policy = ProjectPolicy(
        allowed_connections=["modern", "prod-*"], allow_raw_sql_filters=False, max_parallelism=4
    )
    spec = _spec(tables={"overrides": [{"name": "orders", "where": "id > 10"}]})
    problems = policy_violations(spec, policy, parallelism=8)
    assert problems == [
        'source connection "legacy" is not in the project\'s allowedConnections',
        "raw SQL filters are not allowed by the project (tables: orders)",
        "parallelism 8 exceeds the project's maxParallelism 4",
    ]


def test_destructive_plans_need_approval_unless_allowed_and_policy_agrees() -> None:
    destructive = {"safe": 3, "lossy": 0, "destructive": 1}
    assert needs_approval(destructive, ProjectPolicy(), allow_destructive=True)
    lenient = ProjectPolicy(destructive_requires_approval=False)
    assert needs_approval(destructive, lenient, allow_destructive=False)
    assert not needs_approval(destructive, lenient, allow_destructive=True)
    lossy = {"safe": 1, "lossy": 2, "destructive": 0}
    assert not needs_approval(lossy, ProjectPolicy(), allow_destructive=False)
    assert needs_approval(lossy, ProjectPolicy(lossy_requires_approval=True), allow_destructive=False)
