"""The settings a Migration runs with: its own, else its Project's `defaults`, else Ferry's.

A field counts as the Migration's own only when the user set it: the CRD publishes no
default for the fields a Project may default (`PROJECT_DEFAULTED` in ferry.api), so pydantic's
`model_fields_set` tells set from omitted. The result is recorded in `status.effective`,
where users see what ran and worker pods (which cannot read cluster-scoped Projects) read it.
"""

from __future__ import annotations

from typing import TypeVar

from ferry.api.migration import EffectiveSettings, MigrationSpec
from ferry.api.migration_operations import Throttle
from ferry.api.project import ProjectDefaults, ProjectPolicy
from ferry.api.resources import DEFAULT_JOB_RESOURCES, JobPlacement

T = TypeVar("T")


def _throttle(spec: MigrationSpec, defaults: ProjectDefaults, policy: ProjectPolicy | None) -> Throttle:
    """The Migration's own limits, else the Project's defaults, else its policy maxima (a maximum
    bounds a Migration that sets nothing too); a limit above a maximum stays, for the policy
    check to refuse with a message rather than be lowered silently."""
    if "throttle" in spec.copy_.model_fields_set:
        return spec.copy_.throttle
    if defaults.throttle is not None:
        return defaults.throttle
    if policy is not None:
        return Throttle(
            rows_per_second=policy.max_rows_per_second, bytes_per_second=policy.max_bytes_per_second
        )
    return spec.copy_.throttle


def effective_settings(
    spec: MigrationSpec, defaults: ProjectDefaults, policy: ProjectPolicy | None = None
) -> EffectiveSettings:
    copy_set = spec.copy_.model_fields_set
    validation_set = spec.validation.model_fields_set
    from_project: list[str] = []

    def pick(own: bool, value: T, default: T | None, name: str) -> T:
        if own or default is None:
            return value
        from_project.append(name)
        return default

    throttle = _throttle(spec, defaults, policy)
    if "throttle" not in spec.copy_.model_fields_set and (
        throttle.rows_per_second or throttle.bytes_per_second or throttle.guard
    ):
        from_project.append("copy.throttle")
    return EffectiveSettings(
        batch_size=pick(
            "batch_size" in copy_set, spec.copy_.batch_size, defaults.batch_size, "copy.batchSize"
        ),
        parallelism=pick(
            "parallelism" in copy_set, spec.copy_.parallelism, defaults.parallelism, "copy.parallelism"
        ),
        row_count_validation=pick(
            "row_count" in validation_set,
            spec.validation.row_count,
            defaults.row_count_validation,
            "validation.rowCount",
        ),
        checksum_validation=pick(
            "checksum" in validation_set,
            spec.validation.checksum,
            defaults.checksum_validation,
            "validation.checksum",
        ),
        job_resources=pick(
            "resources" in spec.job.model_fields_set,
            spec.job.resources,
            defaults.job_resources,
            "job.resources",
        )
        or DEFAULT_JOB_RESOURCES,
        # Always the Project's: a Migration's own placement is refused (ferry.services.policy).
        job_placement=pick(False, JobPlacement(), defaults.job_placement, "job.placement"),
        rows_per_second=throttle.rows_per_second,
        bytes_per_second=throttle.bytes_per_second,
        throttle_guard=throttle.guard,
        from_project=from_project,
    )


def apply_effective(spec: MigrationSpec, effective: EffectiveSettings | None) -> MigrationSpec:
    """`spec` with the recorded effective settings in place (unchanged when none are recorded)."""
    if effective is None:
        return spec
    return spec.model_copy(
        update={
            "copy_": spec.copy_.model_copy(
                update={
                    "batch_size": effective.batch_size,
                    "parallelism": effective.parallelism,
                    "throttle": Throttle(
                        rows_per_second=effective.rows_per_second,
                        bytes_per_second=effective.bytes_per_second,
                        guard=effective.throttle_guard,
                    ),
                }
            ),
            "validation": spec.validation.model_copy(
                update={
                    "row_count": effective.row_count_validation,
                    "checksum": effective.checksum_validation,
                }
            ),
            "job": spec.job.model_copy(update={"resources": effective.job_resources}),
        }
    )


def effective_spec(
    spec: MigrationSpec, defaults: ProjectDefaults, policy: ProjectPolicy | None = None
) -> tuple[MigrationSpec, EffectiveSettings]:
    settings = effective_settings(spec, defaults, policy)
    return apply_effective(spec, settings), settings


def with_project_placement(spec: MigrationSpec, effective: EffectiveSettings | None) -> MigrationSpec:
    """`spec` with its worker pods placed where the Project says (`effective.jobPlacement`):
    nowhere in particular when it says nothing. The Migration's own nodeSelector and
    tolerations never reach a pod; the policy refuses them before any Job is made. The
    throttle guard is the effective one as well."""
    placed = (effective.job_placement if effective else None) or JobPlacement()
    job = spec.job.model_copy(
        update={"node_selector": placed.node_selector, "tolerations": placed.tolerations}
    )
    if effective is None:
        return spec.model_copy(update={"job": job})
    # The guard that runs may be the Project's: its token must reach the pod's env too.
    throttle = spec.copy_.throttle.model_copy(update={"guard": effective.throttle_guard})
    return spec.model_copy(update={"job": job, "copy_": spec.copy_.model_copy(update={"throttle": throttle})})
