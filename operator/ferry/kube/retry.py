"""Calls to the API server that must survive its outage: retried with backoff, for a bounded time.

A worker pod's copy does not need the API server: it reads its inputs at start and reports
progress as it goes. So an API server that restarts (an upgrade, a control-plane node lost)
must not fail the pod or spend one of the Job's retries. Progress reports in the copy loop are
best effort already (the next heartbeat carries everything again, ferry.worker.control); the
calls whose answer matters (the inputs at start, the last report at the end) go through here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import urllib3
from kubernetes.client.exceptions import ApiException

from ferry.observability.errors import first_line
from ferry.observability.logging import get_logger

T = TypeVar("T")

# Answers of an API server that is (re)starting or overloaded, or of a proxy in front of it.
UNAVAILABLE_STATUSES = {0, 429, 500, 502, 503, 504}
FIRST_DELAY_SECONDS = 1.0
MAX_DELAY_SECONDS = 15.0

log = get_logger("ferry.kube")


def api_unavailable(exc: BaseException) -> bool:
    """The API server could not be reached or could not answer; a later try may succeed. A 403
    or 404 is an answer, and retrying it helps nothing."""
    if isinstance(exc, ApiException):
        return exc.status in UNAVAILABLE_STATUSES
    return isinstance(exc, urllib3.exceptions.HTTPError | OSError | TimeoutError)


def call_with_backoff(
    call: Callable[[], T],
    *,
    what: str,
    give_up_after: float,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """`call()`, tried again after 1, 2, 4 … (at most 15) seconds while the API server is
    unavailable, until `give_up_after` seconds have passed; then its last error is raised."""
    started, delay = clock(), FIRST_DELAY_SECONDS
    while True:
        try:
            return call()
        except Exception as exc:
            if not api_unavailable(exc) or clock() - started + delay > give_up_after:
                raise
            log.warning(
                f"{what} failed; the API server is unavailable, retrying", error=first_line(exc), in_s=delay
            )
            sleep(delay)
            delay = min(delay * 2, MAX_DELAY_SECONDS)
