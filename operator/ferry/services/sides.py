"""A Migration's two connections, resolved, or why they cannot be yet. Writes nothing.

The reconciler turns a `NotReady` into a status transition; the delete handler turns it into
a wait. Keeping this free of status writes is what lets both use it (and what removed the
import cycle between the reconciler and rollback).
"""

from __future__ import annotations

from dataclasses import dataclass

from ferry.api import conditions as c
from ferry.api.connection import DatabaseConnectionSpec
from ferry.api.migration import MigrationSpec
from ferry.db.credentials import SecretError
from ferry.services.connection_policy import refused_destination, refused_secrets
from ferry.services.migration_ports import MigrationPorts, Sides
from ferry.services.planning import Side
from ferry.services.policy import Governance

# A connection the Project's rules refuse waits for a change of the rules or the connection.
REFUSED_RETRY_SECONDS = 30.0


@dataclass(frozen=True)
class NotReady:
    reason: str
    message: str
    retry_after: float = 5.0
    permanent: bool = False  # no retry helps until a spec (or the Project's rules) changes


def resolve_sides(ports: MigrationPorts, namespace: str, spec: MigrationSpec) -> Sides | NotReady:
    """Both connections exist and are Ready, the Project's connection rules allow them as they
    are now, and their credentials resolve. (Whether the target may be written is the gate's
    question: ferry.services.gate.)

    The rules are checked again here, not only by the connection's probe: a connection that was
    Ready before the rules were tightened must not be planned, copied or rolled back against."""
    source = ports.connection(namespace, spec.source.connection_ref.name)
    target = ports.connection(namespace, spec.target.connection_ref.name)
    if source.spec is None or target.spec is None:
        return NotReady(c.WAITING_FOR_CONNECTION, source.why_not or target.why_not, retry_after=5)
    governance = ports.governance(namespace)
    source_side = _side(ports, namespace, governance, "source", spec.source.connection_ref.name, source.spec)
    if isinstance(source_side, NotReady):
        return source_side
    target_side = _side(ports, namespace, governance, "target", spec.target.connection_ref.name, target.spec)
    if isinstance(target_side, NotReady):
        return target_side
    return Sides(source_side, target_side)


def _side(
    ports: MigrationPorts, namespace: str, governance: Governance, role: str, name: str,
    connection: DatabaseConnectionSpec,
) -> Side | NotReady:  # fmt: skip
    """One connection with its credentials, the Secret names checked before they are read."""
    refusal = refused_secrets(connection, governance)
    if refusal is None:
        try:
            credentials = ports.credentials(namespace, connection)
        except SecretError as exc:
            return NotReady(c.WAITING_FOR_CONNECTION, str(exc), retry_after=10)
        refusal = refused_destination(connection, credentials, governance)
        if refusal is None:
            return Side(connection, credentials)
    message = f'{role} DatabaseConnection "{name}": {refusal.message}'
    return NotReady(refusal.reason, message, retry_after=REFUSED_RETRY_SECONDS, permanent=True)
