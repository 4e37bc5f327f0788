"""The CPU time of a run's worker pods by kind, `status.usage`: copy, validation and follower.

Every kind of pod reports its own process's CPU time (user + system) in the status entry it
owns: copy workers in `workers.<index>`, validation pods in `validationWorkers.<index>`, the
follower in `replication`. Each entry holds the latest pod only: a retried index, a repair's run
(same indexes, new pods) or a new follower attempt overwrites it and counts from 0. So, as for
copy workers (ferry.services.progress.carry_replaced_pods), the operator remembers the pod it
last saw in each place (`earlierPods`) and, when another pod took the place, adds what the one
it replaced last reported. A pod is counted once: its figure while it is the latest, then (once
replaced) in `earlierPods`. Entries that name no pod (older images) count with their latest
figures only.
"""

from __future__ import annotations

from collections.abc import Iterable

from ferry.api.migration import EarlierPods, MigrationStatus, MigrationUsage, PodFigures


def _replaced(seen: PodFigures | None, pod: str | None, cpu: float) -> tuple[float, PodFigures | None]:
    """(CPU to add to the replaced pods' total, what to remember for this place now)."""
    if not pod:
        return 0.0, seen
    added = seen.cpu_seconds if seen is not None and seen.pod != pod else 0.0
    return added, PodFigures(pod=pod, cpu_seconds=cpu)


def carry_replaced_validation_and_follower(earlier: EarlierPods, status: MigrationStatus) -> EarlierPods:
    """`earlier` with the validation and follower pods replaced since the last look added."""
    for index, pod in status.validation_workers.items():
        added, seen = _replaced(earlier.validation_last_seen.get(index), pod.pod, pod.cpu_seconds)
        earlier.validation_cpu_seconds = round(earlier.validation_cpu_seconds + added, 2)
        if seen is not None:
            earlier.validation_last_seen[index] = seen
    replication = status.replication
    if replication is not None and replication.pod:
        added, seen = _replaced(earlier.follower_last_seen, replication.pod, replication.cpu_seconds or 0.0)
        earlier.follower_cpu_seconds = round(earlier.follower_cpu_seconds + added, 2)
        earlier.follower_last_seen = seen
    return earlier


def _sum(values: Iterable[float]) -> float:
    return round(sum(values), 2)


def usage(status: MigrationStatus) -> MigrationUsage:
    """The run's CPU time by kind, from the latest pods' entries and `earlierPods`."""
    earlier = status.earlier_pods or EarlierPods()
    copy = status.progress.worker_cpu_seconds if status.progress else 0.0
    validation = _sum(
        [earlier.validation_cpu_seconds, *(w.cpu_seconds for w in status.validation_workers.values())]
    )
    follower = _sum(
        [earlier.follower_cpu_seconds, (status.replication.cpu_seconds or 0.0) if status.replication else 0.0]
    )
    return MigrationUsage(
        worker_cpu_seconds=_sum([copy, validation, follower]),
        copy_cpu_seconds=copy,
        validation_cpu_seconds=validation,
        follower_cpu_seconds=follower,
    )


def refresh_usage(status: MigrationStatus) -> None:
    """Carry the replaced validation and follower pods and recompute `status.usage` (the copy's
    figure is progress's, refreshed before). Unchanged figures leave the status as it was, so a
    tick with no news writes nothing."""
    before = status.earlier_pods
    earlier = carry_replaced_validation_and_follower(
        before.model_copy(deep=True) if before else EarlierPods(), status
    )
    if before is not None or earlier != EarlierPods():
        status.earlier_pods = earlier
    figures = usage(status)
    if status.usage != figures and (status.usage is not None or figures != MigrationUsage()):
        status.usage = figures
