"""When a Migration's plan must be computed again, and when the one in its status still holds.

A Migration awaiting approval (or stalled on a plan with errors) used to be re-planned every
15 s: both schemas reflected in full, for a plan that almost always came out the same. Now each
check asks both databases for a schema fingerprint (ferry.schema.fingerprint: one catalog query
per side) and re-plans only when the basis of the plan changed: the generation (so any spec
edit, an approval by hash included), the effective spec, either connection's spec, the
Project's rules, the Migration's MigrationApprovals (an approval is its own object, not a spec
edit; in the operator they come from its index, whose changes wake the Migration at the next
tick instead of the next check: ferry.services.approval_index), or a fingerprint. What a plan
reads besides DDL (rows, sequence values) is caught by re-planning anyway once the plan is
REPLAN_SECONDS old.
"""

from __future__ import annotations

import hashlib
import json
from datetime import timedelta

from ferry.api import conditions as c
from ferry.api.migration import MigrationSpec, Phase
from ferry.services.approvals import ApprovalsRead
from ferry.services.migration_ports import MigrationContext, MigrationPorts, PlanBasis, Sides
from ferry.services.policy import Governance

REPLAN_SECONDS = 600


def plan_basis(
    ports: MigrationPorts,
    ctx: MigrationContext,
    spec: MigrationSpec,
    sides: Sides,
    governance: Governance,
    read: ApprovalsRead,
) -> PlanBasis | None:
    """The basis a plan made now would have; None when a fingerprint cannot be read (the plan
    then runs, and reports why the database cannot be read)."""
    try:
        fingerprint = ports.schema_fingerprint(spec, sides)
    except Exception:
        return None
    approvals = sorted((a.name, a.plan_hash, a.approver, a.groups) for a in read.approvals)
    inputs = [
        ctx.generation,
        spec.model_dump(mode="json", by_alias=True),
        sides.source.spec.model_dump(mode="json", by_alias=True),
        sides.target.spec.model_dump(mode="json", by_alias=True),
        repr(governance),
        fingerprint,
        approvals,
        read.verified,
    ]
    key = hashlib.sha256(json.dumps(inputs, sort_keys=True, default=str).encode()).hexdigest()
    return PlanBasis(key, ports.now())


def plan_holds(ctx: MigrationContext, basis: PlanBasis | None) -> bool:
    """The plan in the status was made from `basis`, recently, and waits for a person (approval,
    or a spec change of a plan with errors): no need to plan again."""
    st, last = ctx.status, ctx.plan_basis
    waiting = st.phase == Phase.AWAITING_APPROVAL or (st.phase == Phase.PLANNING and st.is_true(c.STALLED))
    if basis is None or last is None or st.plan is None or not waiting:
        return False
    return last.key == basis.key and basis.planned_at - last.planned_at < timedelta(seconds=REPLAN_SECONDS)
