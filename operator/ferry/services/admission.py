"""What must hold before a Migration is planned: its spec under the Project's rules, windows
that can be evaluated, both connections Ready and allowed, Secret keys that do not collide in the
workers' environment, and a connection budget (maxConnections) with room for it.

Each refusal is marked on the status here (Stalled when only a change can fix it, Pending with a
retry otherwise), so the reconciler (ferry.services.migration) only asks whether to go on.
"""

from __future__ import annotations

from dataclasses import dataclass

from ferry.api import conditions as c
from ferry.api.migration import MigrationSpec, Phase
from ferry.kube.worker_job import SecretEnvCollision, secret_env, secret_keys_needed
from ferry.services.connection_budget import connection_admission
from ferry.services.gate import check_spec
from ferry.services.migration_ports import MigrationContext, MigrationPorts, Sides
from ferry.services.outcome import Outcome
from ferry.services.policy import Governance
from ferry.services.schedule import ScheduleError, WindowState, window_state
from ferry.services.sides import NotReady, resolve_sides


@dataclass(frozen=True)
class Admitted:
    sides: Sides
    window: WindowState  # where now stands among spec.schedule.windows


def admit(
    ports: MigrationPorts, ctx: MigrationContext, spec: MigrationSpec, governance: Governance, out: Outcome
) -> Admitted | None:
    """The sides and the window when the Migration may be planned; None (status marked, and
    when to look again in `out`) when it may not yet or not at all."""
    st, gen = ctx.status, ctx.generation
    refused = check_spec(spec, governance, target_read_only=False)
    if refused is not None:
        out.emit(st.mark_stalled(refused.reason, refused.message, gen, Phase.PENDING))
        return None
    try:
        window = window_state(spec.schedule.windows, ports.now())
    except ScheduleError as exc:
        out.emit(st.mark_stalled(c.INVALID_SPEC, f"spec.schedule.windows: {exc}", gen, Phase.PENDING))
        return None
    sides = resolve_sides(ports, ctx.namespace, spec)
    if isinstance(sides, NotReady):
        mark = st.mark_stalled if sides.permanent else st.mark_waiting
        out.emit(mark(sides.reason, sides.message, gen, Phase.PENDING))
        out.requeue_after = sides.retry_after
        return None
    try:
        secret_env(secret_keys_needed(spec, sides.source.spec, sides.target.spec))
    except SecretEnvCollision as exc:
        out.emit(st.mark_stalled(c.INVALID_SPEC, str(exc), gen, Phase.PENDING))
        return None
    held = connection_admission(ports, ctx.namespace, ctx.name, spec, sides.source.spec, sides.target.spec)
    if held is not None:
        if st.phase != Phase.AWAITING_APPROVAL:  # an approval request stands; it only connects less
            mark = st.mark_stalled if held.permanent else st.mark_waiting
            out.emit(mark(held.reason, held.message, gen, Phase.PENDING))
        out.requeue_after = None if held.permanent else held.retry_after
        return None
    return Admitted(sides, window)
