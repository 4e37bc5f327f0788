"""`kubectl ferry cutover mig/NAME [-n NS] [--approve]`: end an online Migration's following.

Sets `spec.cutover.requested: true` with a merge patch, as `approve` sets the plan hash; the
operator then asks the follower to apply up to the source's position and finish. With
`--approve`, also `spec.approval.cutover: true`, which a Project with `cutoverRequiresApproval`
waits for. Refused (exit 2) for an offline Migration or one that has ended.

(`ferry cutover -f bundle.yaml`, the local mode, is `ferry.cli.cutover`; the one `cutover`
subcommand dispatches between them on `-f`.)
"""

from __future__ import annotations

import argparse
from typing import Any

from kubernetes import client

from ferry.api.kinds import MIGRATION
from ferry.api.migration import TERMINAL, Phase
from ferry.cli.control import Refused, display, run_against_api
from ferry.kube.status import get_object, patch_spec


def cutover_patch(obj: dict[str, Any], approve: bool) -> dict[str, Any] | None:
    """The spec fields to set for the cutover (None when they are set already); refuses a
    Migration that has no cutover to make."""
    spec = obj.get("spec") or {}
    phase = (obj.get("status") or {}).get("phase", Phase.PENDING.value)
    if spec.get("mode", "offline") != "online":
        raise Refused(
            "this Migration is offline (spec.mode: offline); it has no cutover: it ends when its copy does"
        )
    if phase in {p.value for p in TERMINAL}:
        raise Refused(f"this Migration has ended (phase {phase}); there is nothing to cut over")
    patch: dict[str, Any] = {}
    if not (spec.get("cutover") or {}).get("requested"):
        patch["cutover"] = {"requested": True}
    if approve and not (spec.get("approval") or {}).get("cutover"):
        patch["approval"] = {"cutover": True}
    return patch or None


def _cutover_action(args: argparse.Namespace) -> Any:
    def action(api: client.ApiClient, namespace: str, name: str) -> str:
        obj = get_object(api, MIGRATION, namespace, name)
        patch = cutover_patch(obj, args.approve)
        if patch is None:
            return f"{display(namespace, name)} cutover was already requested"
        patch_spec(api, MIGRATION, namespace, name, patch)
        phase = (obj.get("status") or {}).get("phase", "Pending")
        lag = ((obj.get("spec") or {}).get("cutover") or {}).get("maxLagSeconds", 5)
        when = "now" if phase == Phase.FOLLOWING.value else f"once the copy is done (phase {phase})"
        return (
            f"{display(namespace, name)} cutover requested: it starts {when}, when the lag is at most "
            f"{lag}s; watch with kubectl ferry status mig/{name} -n {namespace} -w"
        )

    return action


def cutover_in_cluster(args: argparse.Namespace) -> int:
    return run_against_api(args, action=_cutover_action(args))
