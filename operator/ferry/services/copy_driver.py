"""The one way a Migration's rows are copied: the worker pods and `ferry run` both come here.

From the spec and the two sides it derives the mappings (unless the caller planned them
already), the endpoints, every work unit in a deterministic order, and the share of worker
`index` of `count`; `CopyShare.run` then copies them through ferry.copy. A worker pod is one
share of `parallelism` (two units at once, ferry.copy's default); `ferry run` is the only
share, copying `parallelism` units at once. Checkpoints are keyed by the migration UID, so
only the same migration resumes them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace

from ferry.api.migration import MigrationSpec
from ferry.api.migration_operations import ThrottleGuard
from ferry.copy import CopyJob, ProgressEvent, UnitResults, WorkUnit, plan_units, run_units, units_for_worker
from ferry.copy.guard import BatchGuard
from ferry.copy.prometheus import PrometheusQuery
from ferry.copy.runner import OutageHook, never_stop
from ferry.copy.sessions import SessionLedger
from ferry.copy.slots import process_share
from ferry.copy.throttle import RateLimiter, worker_share
from ferry.db.credentials import SecretSource
from ferry.schema import TableMapping
from ferry.services.endpoints import endpoints_for
from ferry.services.planning import Side, source_mappings


@dataclass(frozen=True)
class CopyShare:
    job: CopyJob
    units: list[WorkUnit]  # this share's units
    units_total: int  # of the whole migration
    mappings: tuple[TableMapping, ...] = ()  # every table of the migration, as planned here

    async def run(
        self,
        progress: Callable[[ProgressEvent], None] = lambda event: None,
        should_stop: Callable[[], Awaitable[bool]] = never_stop,
        on_outage: OutageHook = lambda unit_id, error, delay: None,
    ) -> UnitResults:
        return await run_units(
            self.job, self.units, progress=progress, should_stop=should_stop, on_outage=on_outage
        )


def batch_guard(guard: ThrottleGuard | None, secrets: SecretSource) -> BatchGuard | None:
    """copy.throttle.guard as the copy's hook; its bearer token read from the Secret source."""
    if guard is None:
        return None
    ref = guard.credentials_secret_ref
    token = secrets.get(ref.name, ref.key) if ref is not None else None
    query = PrometheusQuery(guard.prometheus_url, guard.query, token)
    return BatchGuard(query, guard.threshold, float(guard.interval_seconds))


async def copy_share(
    spec: MigrationSpec,
    source: Side,
    target: Side,
    *,
    migration_uid: str,
    secrets: SecretSource,
    mappings: Sequence[TableMapping] | None = None,
    index: int = 0,
    count: int = 1,
    concurrency: int | None = None,
    sessions: SessionLedger | None = None,
) -> CopyShare:
    """Worker `index` of `count`'s units, ready to run (the spec is the effective one).
    `sessions`: keeps count of the sessions the copy opens and its reconnects (the worker reports them)."""
    if mappings is None:
        mappings = source_mappings(spec, source, target)
    endpoints = endpoints_for(source, target)
    if sessions is not None:
        endpoints = sessions.endpoints(endpoints)
    units = await plan_units(mappings, endpoints.source, spec.copy_)
    throttle = spec.copy_.throttle
    limiter = RateLimiter(
        worker_share(throttle.rows_per_second, count), worker_share(throttle.bytes_per_second, count)
    )
    job = CopyJob(
        migration_uid, endpoints, spec.copy_, secrets,
        throttle=limiter if limiter.active else None, guard=batch_guard(throttle.guard, secrets),
        source_slots=process_share(source.spec.max_connections, count),
        target_slots=process_share(target.spec.max_connections, count), sessions=sessions,
    )  # fmt: skip
    if concurrency is not None:
        job = replace(job, concurrency=concurrency)
    return CopyShare(job, units_for_worker(units, index, count), len(units), tuple(mappings))
