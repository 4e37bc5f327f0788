"""One active operator: leader election on a coordination.k8s.io Lease.

The election itself is the Kubernetes client's (`kubernetes.leaderelection`: `LeaderElection`,
`electionconfig.Config`, `LeaseLock`). Three guards make it safe to hang kopf on it — a second
acting operator would run DDL, foreign-key deferral and rollback next to the first:

1. Every Lease call has a timeout and a single attempt. The client's calls have none, so a
   black-holed connection would stall a leader's renewal loop indefinitely while it acts.
2. Transport errors (connection refused, timeouts) count as a failed attempt. `LeaseLock` catches
   only `ApiException`; anything else escapes `LeaderElection.run()` and ends the election
   thread — for a leader without calling `onstopped_leading`, so it would act without a lease.
3. A watchdog stops a leader that has not renewed for `renew_deadline`, counted from the start
   of its last successful write. The client checks that deadline only between attempts.

Losing the lease stops work at once: the stop flag (kopf's) is set, the lock refuses further
renewals, and the process exits with status 1 after `stop_grace` even if kopf has not finished
stopping, so that Kubernetes restarts it as a standby — what controller-runtime does. The old
leader is gone before anyone can take the lease: a standby takes an expired lease
`lease_duration` after it last saw it renewed, and the leader exits at most
`renew_deadline + WATCH_INTERVAL + stop_grace` after its last renewal.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from typing import Any, Final

import urllib3
from kubernetes import client
from kubernetes.client.exceptions import ApiException
from kubernetes.leaderelection import electionconfig, leaderelection
from kubernetes.leaderelection.resourcelock.leaselock import LeaseLock

from ferry.kube.election_settings import WATCH_INTERVAL, ElectionSettings
from ferry.observability.logging import get_logger

log = get_logger(__name__)

# Answers that are part of a normal election: the lease does not exist yet (404), another
# candidate wrote it first (409). Anything else (403: a missing RBAC rule) is worth a warning.
_EXPECTED_STATUSES: Final = frozenset({404, 409})


class _BoundedLeaseApi:
    """The three calls `LeaseLock` makes, each with a timeout, transport errors as `ApiException`
    (status 0) so that the lock reports a failed attempt. An unexpected answer is logged once per
    call until that call succeeds again: the client logs it only at INFO, where a missing RBAC
    rule would go unseen by a standby waiting forever."""

    def __init__(self, api: client.CoordinationV1Api, timeout: float, lease: str) -> None:
        self._api = api
        self._timeout = timeout
        self._lease = lease
        self._reported: dict[str, int] = {}

    def read_namespaced_lease(self, name: str, namespace: str) -> Any:
        return self._call("read", self._api.read_namespaced_lease, name, namespace)

    def create_namespaced_lease(self, namespace: str, body: Any) -> Any:
        return self._call("create", self._api.create_namespaced_lease, namespace, body)

    def replace_namespaced_lease(self, name: str, namespace: str, body: Any) -> Any:
        return self._call(
            "update", self._api.replace_namespaced_lease, name=name, namespace=namespace, body=body
        )

    def _call(self, verb: str, method: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            result = method(*args, _request_timeout=self._timeout, **kwargs)
        except ApiException as error:
            self._report(verb, error.status or 0, str(error.reason))
            raise
        except (urllib3.exceptions.HTTPError, OSError) as error:
            reason = f"{type(error).__name__}: {error}"
            self._report(verb, 0, reason)
            raise ApiException(status=0, reason=reason) from error
        self._reported.pop(verb, None)
        return result

    def _report(self, verb: str, status: int, reason: str) -> None:
        if status in _EXPECTED_STATUSES or self._reported.get(verb) == status:
            return
        self._reported[verb] = status
        log.warning(
            "leader election: lease call failed", verb=verb, lease=self._lease, status=status, reason=reason
        )


class RenewalStampingLock:
    """A `LeaseLock` that remembers when its last successful write started (monotonic clock).

    A write that succeeded was sent at or after that instant, so every other candidate saw the
    lease renewed no earlier: the watchdog may count the renew deadline from it.

    Once `closed`, every write fails: a process that stopped acting never renews again (the
    client's loop may still be retrying), so a standby's wait starts from the last renewal before
    the stop."""

    def __init__(self, lock: Any) -> None:
        self._lock = lock
        self.name: str = lock.name
        self.namespace: str = lock.namespace
        self.identity: str = lock.identity
        self.renewed_at = float("-inf")
        self.closed = False

    def get(self, name: str, namespace: str) -> tuple[bool, Any]:
        found: tuple[bool, Any] = self._lock.get(name, namespace)
        return found

    def create(self, name: str, namespace: str, election_record: Any) -> bool:
        if self.closed:
            return False
        started = time.monotonic()
        created = bool(self._lock.create(name, namespace, election_record))
        if created and not self.closed:
            self.renewed_at = started
        return created

    def update(self, name: str, namespace: str, updated_record: Any) -> bool:
        if self.closed:
            return False
        started = time.monotonic()
        updated = bool(self._lock.update(name, namespace, updated_record))
        if updated and not self.closed:
            self.renewed_at = started
        return updated


def build_lock(settings: ElectionSettings, api: client.ApiClient) -> RenewalStampingLock:
    """The client's `LeaseLock` on `api` (its own would use the unconfigured default client)."""
    lock = LeaseLock(settings.name, settings.namespace, settings.identity)
    lock.api_instance = _BoundedLeaseApi(
        client.CoordinationV1Api(api), settings.request_timeout, f"{settings.namespace}/{settings.name}"
    )
    return RenewalStampingLock(lock)


class LeaseCandidate:
    """Runs the election in a daemon thread; `wait_for_leadership()` blocks until this process
    leads (True) or the election ended without it (False).

    `stop_flag` is set when the lease is lost, and `exit_process(1)` runs `stop_grace` later.
    Nothing restarts the election: a process that lost the lease ends."""

    def __init__(
        self,
        settings: ElectionSettings,
        lock: RenewalStampingLock,
        stop_flag: threading.Event,
        exit_process: Callable[[int], object] = os._exit,
        on_leading: Callable[[bool], object] = lambda _leading: None,
    ) -> None:
        self.settings = settings
        self.lock = lock
        self.leading = threading.Event()
        self.lost = threading.Event()
        self._stop_flag = stop_flag
        self._exit_process = exit_process
        self._on_leading = on_leading
        self._changed = threading.Event()
        self._guard = threading.Lock()

    def start(self) -> LeaseCandidate:
        # The client logs every renewal and every poll at INFO; transitions are logged here.
        logging.getLogger("leaderelection").setLevel(logging.WARNING)
        config = electionconfig.Config(
            lock=self.lock,
            lease_duration=self.settings.lease_duration,
            renew_deadline=self.settings.renew_deadline,
            retry_period=self.settings.retry_period,
            onstarted_leading=self._started_leading,
            onstopped_leading=lambda: self.stop_leading("the lease could not be renewed in time"),
        )
        log.info(
            "leader election: waiting for the lease",
            lease=f"{self.settings.namespace}/{self.settings.name}",
            identity=self.settings.identity,
        )
        threading.Thread(target=self._elect, args=(config,), name="leader-election", daemon=True).start()
        return self

    def wait_for_leadership(self) -> bool:
        self._changed.wait()
        return self.leading.is_set() and not self.lost.is_set()

    def _elect(self, config: Any) -> None:
        try:
            leaderelection.LeaderElection(config).run()
        except BaseException as error:  # the thread's last word: never end silently
            log.exception("leader election: the election failed")
            self.stop_leading(f"the election failed: {type(error).__name__}")
        # run() returns only after onstopped_leading, which stopped us already.

    def _started_leading(self) -> None:
        log.info(
            "leader election: became the leader",
            lease=f"{self.settings.namespace}/{self.settings.name}",
            identity=self.settings.identity,
        )
        self.leading.set()
        self._on_leading(True)
        self._changed.set()
        threading.Thread(target=self._watch_renewals, name="lease-watchdog", daemon=True).start()

    def _watch_renewals(self) -> None:
        while not self.lost.wait(WATCH_INTERVAL):
            silent = time.monotonic() - self.lock.renewed_at
            if silent > self.settings.renew_deadline:
                self.stop_leading(f"the lease was not renewed for {silent:.1f}s")

    def stop_leading(self, reason: str) -> None:
        """Stop acting: set the stop flag now, end the process `stop_grace` later. Idempotent."""
        with self._guard:
            if self.lost.is_set():
                return
            self.lost.set()
            self.lock.closed = True
        log.error(
            "leader election: stopping, this process may no longer act",
            reason=reason,
            was_leader=self.leading.is_set(),
            exit_in_seconds=self.settings.stop_grace,
        )
        self._on_leading(False)
        self._stop_flag.set()
        self._changed.set()
        exit_timer = threading.Timer(self.settings.stop_grace, self._exit_process, args=(1,))
        exit_timer.daemon = True
        exit_timer.start()
