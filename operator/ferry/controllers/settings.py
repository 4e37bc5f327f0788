"""Operator-wide kopf settings: where kopf keeps its own bookkeeping, and how it posts events.

kopf's progress and diff-base live in annotations under ferry.dev, never in `status`:
status is Ferry's public API and holds only what Ferry documents there.
"""

from __future__ import annotations

import logging
from typing import Any

import kopf

from ferry.api.kinds import GROUP


@kopf.on.startup()
def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
    settings.persistence.progress_storage = kopf.AnnotationsProgressStorage(prefix=GROUP)
    settings.persistence.diffbase_storage = kopf.AnnotationsDiffBaseStorage(
        prefix=GROUP, key="last-handled-configuration"
    )
    settings.persistence.finalizer = f"{GROUP}/finalizer"
    settings.posting.level = logging.WARNING  # events come from Ferry's own transition logic
    settings.watching.server_timeout = 120
    settings.networking.request_timeout = 30
    settings.execution.max_workers = 20
