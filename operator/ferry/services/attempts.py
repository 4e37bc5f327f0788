"""What is checked again before each Job attempt: the Project's policy as it is now.

A Migration is admitted once, before its first Job, under the rules of that moment. A retry
or a Job recreated after an operator restart runs later, and so does an online Migration's
follower, started when the copy is done and again after a source schema change, maybe after
the Project tightened its policy (a connection no longer allowed, raw filters forbidden, a
lower maxParallelism, a host or Secret removed from the connection rules). Such an attempt is
not started.
"""

from __future__ import annotations

from dataclasses import dataclass

from ferry.api.migration import MigrationSpec
from ferry.services.gate import check_spec
from ferry.services.migration_ports import MigrationPorts
from ferry.services.sides import NotReady, resolve_sides


@dataclass(frozen=True)
class AttemptRefusal:
    reason: str
    message: str


def attempt_refusal(
    ports: MigrationPorts, namespace: str, spec: MigrationSpec, attempt: str
) -> AttemptRefusal | None:
    """Why `attempt` ("attempt 2", "follower job") must not start, or None. A connection that
    is only not Ready yet does not refuse (the attempt's pods wait or fail and are retried);
    one that the connection rules refuse does."""
    prefix = f"{attempt} not started: "
    decision = check_spec(spec, ports.governance(namespace), target_read_only=False)
    if decision is not None:
        return AttemptRefusal(decision.reason, prefix + decision.message)
    sides = resolve_sides(ports, namespace, spec)
    if isinstance(sides, NotReady) and sides.permanent:
        return AttemptRefusal(sides.reason, prefix + sides.message)
    return None
