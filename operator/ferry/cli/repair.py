"""`ferry repair mig/NAME`: copy again the key ranges a Migration's validation found differing.

It sets `spec.validation.repair` with a merge patch (update/patch on migrations: the
ferry-editor role, as `suspend`); the operator sees the new generation of a Migration that
failed validation on differing key ranges, starts the next validation run, whose Job deletes
those ranges on the target, copies them again from the source and validates again
(ferry.services.validating). Refused, with why, for a Migration in any other state.
"""

from __future__ import annotations

import argparse
import functools
from typing import Any

from kubernetes import client

from ferry.api import conditions as c
from ferry.api.kinds import MIGRATION
from ferry.api.migration import MigrationStatus, Phase
from ferry.cli.control import Refused, add_target_arguments, display, run_against_api
from ferry.kube.status import get_object, patch_spec


def repair_refusal(status: MigrationStatus) -> str | None:
    """Why this Migration has nothing a repair can fix; None when it has."""
    ready = status.condition(c.READY)
    if status.phase != Phase.FAILED or ready is None or ready.reason != c.VALIDATION_FAILED:
        return (
            f"the Migration is {status.phase.value}, not Failed by its validation; "
            "a repair copies again the key ranges a failed validation found differing"
        )
    if status.validation is None or not status.validation.mismatched_ranges:
        return (
            "its validation failed without naming differing key ranges (see its message); nothing to repair"
        )
    return None


def repair(api: client.ApiClient, namespace: str, name: str) -> str:
    migration = get_object(api, MIGRATION, namespace, name)
    status = MigrationStatus.model_validate(migration.get("status") or {})
    refusal = repair_refusal(status)
    if refusal is not None:
        raise Refused(refusal)
    if ((migration.get("spec") or {}).get("validation") or {}).get("repair"):
        # Already on (the last repair did not fix it): off and on again makes a new generation,
        # which is what the operator waits for before it repairs again.
        patch_spec(api, MIGRATION, namespace, name, {"validation": {"repair": False}})
    patch_spec(api, MIGRATION, namespace, name, {"validation": {"repair": True}})
    ranges = status.validation.mismatched_ranges if status.validation else []
    return (
        f"{display(namespace, name)}: repair requested for {len(ranges)} differing key range(s) "
        f"(first: {ranges[0] if ranges else '-'}); it validates again when they are copied"
    )


def register(subparsers: Any) -> None:
    text = "copy again the key ranges a failed validation found differing, then validate again"
    parser: argparse.ArgumentParser = subparsers.add_parser("repair", help=text, description=text)
    add_target_arguments(parser)
    parser.set_defaults(func=functools.partial(run_against_api, action=repair))
