"""Project policy and defaults as they apply to one Migration.

A namespace owned by a Project is governed by its policy; elsewhere built-in defaults apply
(the API's own defaults: everything allowed, destructive plans need approval). Pure: the
lookup of the Project in the cluster is ferry.services.governance, so `ferry run` never loads
the Kubernetes client.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field

from ferry.api.migration import MigrationSpec
from ferry.api.project import ProjectDefaults, ProjectPolicy
from ferry.api.project_notifications import Notification


@dataclass(frozen=True)
class Governance:
    project: str | None
    policy: ProjectPolicy = field(default_factory=ProjectPolicy)
    defaults: ProjectDefaults = field(default_factory=ProjectDefaults)
    notifications: tuple[Notification, ...] = ()


def policy_violations(spec: MigrationSpec, policy: ProjectPolicy, parallelism: int) -> list[str]:
    """Everything in `spec` the policy forbids, as messages a user can act on."""
    problems = []
    for role, ref in (("source", spec.source.connection_ref), ("target", spec.target.connection_ref)):
        if not any(fnmatch.fnmatchcase(ref.name, pattern) for pattern in policy.allowed_connections):
            problems.append(f'{role} connection "{ref.name}" is not in the project\'s allowedConnections')
    if not policy.allow_raw_sql_filters:
        filtered = [o.name for o in spec.tables.overrides if o.where]
        if filtered:
            problems.append(f"raw SQL filters are not allowed by the project (tables: {', '.join(filtered)})")
    # Refused at admission too (the CRD's rules); an object admitted before them gets here.
    for name, value in (("nodeSelector", spec.job.node_selector), ("tolerations", spec.job.tolerations)):
        if value:
            problems.append(
                f"spec.job.{name} is not allowed: worker pods are placed by the Project "
                "(spec.defaults.jobPlacement); remove it"
            )
    if parallelism > policy.max_parallelism:
        problems.append(
            f"parallelism {parallelism} exceeds the project's maxParallelism {policy.max_parallelism}"
        )
    throttle = spec.copy_.throttle
    for field_name, limit, maximum in (
        ("rowsPerSecond", throttle.rows_per_second, policy.max_rows_per_second),
        ("bytesPerSecond", throttle.bytes_per_second, policy.max_bytes_per_second),
    ):
        if maximum is not None and (limit is None or limit > maximum):
            asked = "no limit" if limit is None else str(limit)
            problems.append(f"copy.throttle.{field_name} {asked} exceeds the project's maximum {maximum}")
    return problems


def needs_approval(counts: dict[str, int], policy: ProjectPolicy, allow_destructive: bool) -> bool:
    """Destructive plans always stop for approval unless allowDestructive is set and the policy
    does not insist; lossy plans stop when the policy says so."""
    if counts.get("destructive", 0) and (policy.destructive_requires_approval or not allow_destructive):
        return True
    return bool(counts.get("lossy", 0) and policy.lossy_requires_approval)
