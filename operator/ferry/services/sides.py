"""A Migration's two connections, resolved, or why they cannot be yet. Writes nothing.

The reconciler turns a `NotReady` into a status transition; the delete handler turns it into
a wait. Keeping this free of status writes is what lets both use it (and what removed the
import cycle between the reconciler and rollback).
"""

from __future__ import annotations

from dataclasses import dataclass

from ferry.api import conditions as c
from ferry.api.migration import MigrationSpec
from ferry.db.credentials import SecretError
from ferry.services.migration_ports import MigrationPorts, Sides
from ferry.services.planning import Side


@dataclass(frozen=True)
class NotReady:
    reason: str
    message: str
    retry_after: float = 5.0


def resolve_sides(ports: MigrationPorts, namespace: str, spec: MigrationSpec) -> Sides | NotReady:
    """Both connections exist and are Ready, and their credentials resolve. (Whether the target
    may be written is the gate's question: ferry.services.gate.)"""
    source = ports.connection(namespace, spec.source.connection_ref.name)
    target = ports.connection(namespace, spec.target.connection_ref.name)
    if source.spec is None or target.spec is None:
        return NotReady(c.WAITING_FOR_CONNECTION, source.why_not or target.why_not, retry_after=5)
    try:
        return Sides(
            Side(source.spec, ports.credentials(namespace, source.spec)),
            Side(target.spec, ports.credentials(namespace, target.spec)),
        )
    except SecretError as exc:
        return NotReady(c.WAITING_FOR_CONNECTION, str(exc), retry_after=10)
