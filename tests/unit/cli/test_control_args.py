"""`ferry approve|suspend|resume|cutover`: references, and when approval or cutover is refused."""

from __future__ import annotations

import argparse
from typing import Any

import pytest

from ferry.cli import approve, control, status
from ferry.cli.approve import approve_plan
from ferry.cli.control import Refused, migration_name
from ferry.cli.cutover_cluster import cutover_patch
from ferry.cli.main import build_parser


@pytest.mark.parametrize(
    "ref",
    ["chinook", "mig/chinook", "migration/chinook", "migrations/chinook", "migrations.ferry.dev/chinook"],
)
def test_migration_references_kubectl_style(ref: str) -> None:
    assert migration_name(ref) == "chinook"


@pytest.mark.parametrize("ref", ["dbc/chinook", "pod/chinook", "mig/", "mig/a/b"])
def test_other_kinds_are_refused(ref: str) -> None:
    with pytest.raises(Refused):
        migration_name(ref)


def with_plan(plan_hash: str | None) -> dict[str, object]:
    status: dict[str, object] = {"phase": "AwaitingApproval"}
    if plan_hash:
        status["plan"] = {"hash": plan_hash}
    return {"spec": {}, "status": status}


def test_approve_takes_the_current_plan_hash() -> None:
    assert approve_plan(with_plan("3f2a9c0d1e2b"), None) == "3f2a9c0d1e2b"
    assert approve_plan(with_plan("3f2a9c0d1e2b"), "3f2a9c0d1e2b") == "3f2a9c0d1e2b"
    assert approve_plan(with_plan("3f2a9c0d1e2b"), "3f2a9c0d") == "3f2a9c0d1e2b"


def test_approve_refuses_without_a_plan() -> None:
    with pytest.raises(Refused, match="no plan"):
        approve_plan({"spec": {}, "status": {"phase": "Planning"}}, None)
    with pytest.raises(Refused, match="no plan"):
        approve_plan({"spec": {}}, None)


@pytest.mark.parametrize("requested", ["0000aaaa1111", "3f2a", "3f2a9c0d1e2bff"])
def test_approve_refuses_a_hash_that_is_not_the_current_plan(requested: str) -> None:
    with pytest.raises(Refused, match="plan changed"):
        approve_plan(with_plan("3f2a9c0d1e2b"), requested)


def test_subcommands_parse_namespace_and_kubeconfig() -> None:
    parser = argparse.ArgumentParser()
    subparsers = parser.add_subparsers(required=True)
    control.register(subparsers)
    approve.register(subparsers)
    status.register(subparsers)
    args = parser.parse_args(["approve", "mig/x", "-n", "team-a", "--kubeconfig", "/k", "--hash", "abcdef12"])
    assert (args.migration, args.namespace, args.kubeconfig, args.hash) == (
        "mig/x",
        "team-a",
        "/k",
        "abcdef12",
    )
    for command in ("suspend", "resume"):
        args = parser.parse_args([command, "x", "--namespace", "ns"])
        assert args.namespace == "ns" and callable(args.func)
    args = parser.parse_args(["status", "mig/x", "-w"])
    assert args.watch is True and args.namespace is None


# -- cutover ------------------------------------------------------------------------------------


def _online(phase: str = "Following", **spec: Any) -> dict[str, Any]:
    return {"spec": {"mode": "online", **spec}, "status": {"phase": phase}}


def test_cutover_sets_requested_and_approval_only_when_asked() -> None:
    assert cutover_patch(_online(), approve=False) == {"cutover": {"requested": True}}
    assert cutover_patch(_online(), approve=True) == {
        "cutover": {"requested": True},
        "approval": {"cutover": True},
    }
    assert cutover_patch(_online(cutover={"requested": True}), approve=False) is None
    assert cutover_patch(_online("Running"), approve=False) == {"cutover": {"requested": True}}


@pytest.mark.parametrize(
    ("obj", "why"),
    [
        ({"spec": {}, "status": {"phase": "Running"}}, "offline"),
        (_online("Succeeded"), "has ended"),
        (_online("RolledBack"), "has ended"),
    ],
)
def test_cutover_is_refused_without_a_follow(obj: dict[str, Any], why: str) -> None:
    with pytest.raises(Refused, match=why):
        cutover_patch(obj, approve=False)


def test_cutover_parses_like_the_other_controls() -> None:
    args = build_parser("cutover").parse_args(["cutover", "mig/shop", "-n", "team-a", "--approve"])
    assert (args.target, args.namespace, args.approve, args.file) == ("mig/shop", "team-a", True, None)


def test_cutover_takes_a_bundle_for_local_mode() -> None:
    args = build_parser("cutover").parse_args(
        ["cutover", "-f", "b.yaml", "--migration", "m", "--timeout", "9"]
    )
    assert (args.target, args.file, args.migration, args.timeout) == (None, "b.yaml", "m", 9.0)


def test_cutover_wants_exactly_one_form(capsys: pytest.CaptureFixture[str]) -> None:
    for argv in (["cutover"], ["cutover", "mig/shop", "-f", "b.yaml"]):
        args = build_parser("cutover").parse_args(argv)
        assert args.func(args) == 2
        assert "mig/NAME" in capsys.readouterr().err
