"""`ferry operator`: leader election is off unless asked for; where the Lease is and who we are."""

from __future__ import annotations

from ferry.cli.main import build_parser
from ferry.cli.operator import election_settings


def test_leader_election_is_off_by_default_with_the_shipped_lease_name() -> None:
    args = build_parser("operator").parse_args(["operator", "--all-namespaces"])
    assert args.leader_elect is False
    assert args.leader_election_id == "ferry-operator"
    assert args.leader_election_namespace is None


def test_the_flags_choose_the_lease() -> None:
    args = build_parser("operator").parse_args(
        [
            "operator",
            "--leader-elect",
            "--leader-election-namespace",
            "ops",
            "--leader-election-id",
            "ferry-b",
        ]
    )
    settings = election_settings(args, {"POD_NAMESPACE": "ferry-system", "POD_NAME": "ferry-operator-7d9-x2"})
    assert args.leader_elect
    assert (settings.namespace, settings.name) == ("ops", "ferry-b")
    assert settings.identity.startswith("ferry-operator-7d9-x2_")


def test_the_lease_defaults_to_the_pods_namespace() -> None:
    args = build_parser("operator").parse_args(["operator", "--leader-elect"])
    assert election_settings(args, {"POD_NAMESPACE": "platform"}).namespace == "platform"
    assert election_settings(args, {}).namespace == "ferry-system"
