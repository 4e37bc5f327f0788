"""The client's leader election with Ferry's guards, on an in-memory lease: who leads, and how a
leader that cannot renew stops acting (stop flag at once, process exit after the grace)."""

from __future__ import annotations

import copy
import datetime
import json
import threading
import time
from typing import Any

import pytest
import urllib3
from kubernetes.client.exceptions import ApiException
from kubernetes.leaderelection.leaderelectionrecord import LeaderElectionRecord
from kubernetes.leaderelection.resourcelock.leaselock import LeaseLock

from ferry.kube.election_settings import WATCH_INTERVAL, ElectionSettings
from ferry.kube.leader_election import LeaseCandidate, RenewalStampingLock, _BoundedLeaseApi

# The shortest timing the client accepts (renew deadline > 1.2 retry periods) with a 1 s grace.
FAST = {"lease_duration": 4.0, "renew_deadline": 1.5, "retry_period": 1.0}


class MemoryLease:
    """The lock interface `LeaderElection` uses, over a record in memory; writes can be made to
    fail (the API refuses) or to hang (a black-holed connection)."""

    def __init__(self, identity: str, record: LeaderElectionRecord | None = None) -> None:
        self.name, self.namespace, self.identity = "ferry-operator", "ns", identity
        self.record = record
        self.refuse = False
        self.hang = False
        self.unblock = threading.Event()

    def get(self, name: str, namespace: str) -> tuple[bool, Any]:
        if self.record is None:
            missing = ApiException(status=404)
            missing.body = json.dumps({"code": 404})
            return False, missing
        return True, copy.copy(self.record)

    def create(self, name: str, namespace: str, election_record: LeaderElectionRecord) -> bool:
        return self.update(name, namespace, election_record)

    def update(self, name: str, namespace: str, updated_record: LeaderElectionRecord) -> bool:
        if self.hang:
            self.unblock.wait()
        if self.refuse:
            return False
        self.record = copy.copy(updated_record)
        return True


class Exits:
    def __init__(self) -> None:
        self.codes: list[int] = []
        self.called = threading.Event()

    def __call__(self, code: int) -> None:
        self.codes.append(code)
        self.called.set()


def candidate(lease: MemoryLease) -> tuple[LeaseCandidate, threading.Event, Exits, list[bool]]:
    settings = ElectionSettings("ns", "ferry-operator", lease.identity, **FAST)
    stop_flag, exits, leadership = threading.Event(), Exits(), []
    elected = LeaseCandidate(settings, RenewalStampingLock(lease), stop_flag, exits, leadership.append)
    return elected.start(), stop_flag, exits, leadership


def test_a_leader_whose_renewals_are_refused_stops_within_the_renew_deadline_then_exits() -> None:
    lease = MemoryLease("a_1")
    elected, stop_flag, exits, leadership = candidate(lease)
    assert elected.wait_for_leadership()
    assert lease.record is not None and lease.record.holder_identity == "a_1"
    time.sleep(1.5)  # a few renewals go through
    assert not stop_flag.is_set()

    lease.refuse = True
    refused_at = time.monotonic()
    assert stop_flag.wait(5)
    assert time.monotonic() - refused_at <= FAST["renew_deadline"] + FAST["retry_period"] + WATCH_INTERVAL
    assert elected.lost.is_set() and not exits.called.is_set(), "kopf gets the grace to stop"
    assert exits.called.wait(3) and exits.codes == [1]
    assert leadership == [True, False]


def test_a_leader_whose_renewal_hangs_is_stopped_by_the_watchdog() -> None:
    lease = MemoryLease("a_1")
    elected, stop_flag, exits, _ = candidate(lease)
    assert elected.wait_for_leadership()
    lease.hang = True  # the client's own loop is stuck inside this call: only the watchdog can act
    hung_at = time.monotonic()
    try:
        assert stop_flag.wait(5)
        assert (
            time.monotonic() - hung_at <= FAST["retry_period"] + FAST["renew_deadline"] + 2 * WATCH_INTERVAL
        )
        assert exits.called.wait(3) and exits.codes == [1]
    finally:
        lease.hang = False
        lease.unblock.set()
    # The hung call completes (it was sent before the stop), then the client's loop goes on
    # renewing: a process that stopped acting must not hold the lease longer.
    time.sleep(0.2)
    last = lease.record
    time.sleep(2 * FAST["retry_period"])
    assert lease.record is last, "a process that stopped acting renewed the lease again"


def test_a_standby_waits_for_the_holders_lease_to_expire() -> None:
    now = str(datetime.datetime.now())
    lease = MemoryLease("b_2", LeaderElectionRecord("a_1", "4", now, now))
    elected, stop_flag, exits, leadership = candidate(lease)
    time.sleep(2.5)
    assert not elected.leading.is_set() and leadership == [], "the holder's lease has not expired"
    assert lease.record is not None and lease.record.holder_identity == "a_1"
    assert elected.wait_for_leadership()  # nobody renewed: the lease expired after 4 s
    assert lease.record.holder_identity == "b_2"
    assert leadership == [True] and not stop_flag.is_set() and not exits.called.is_set()


def test_renewals_are_stamped_only_when_they_succeed() -> None:
    lease = MemoryLease("a_1")
    stamped = RenewalStampingLock(lease)
    record = LeaderElectionRecord("a_1", "15", "2026-01-01 00:00:00", "2026-01-01 00:00:00")
    before = time.monotonic()
    assert stamped.update("ferry-operator", "ns", record)
    assert stamped.renewed_at >= before
    first = stamped.renewed_at
    lease.refuse = True
    assert not stamped.update("ferry-operator", "ns", record)
    assert stamped.renewed_at == first


class UnreachableApi:
    """A CoordinationV1Api whose server cannot be reached; records the timeouts it was given."""

    def __init__(self) -> None:
        self.timeouts: list[object] = []

    def read_namespaced_lease(self, name: str, namespace: str, **kwargs: Any) -> Any:
        self.timeouts.append(kwargs.get("_request_timeout"))
        raise urllib3.exceptions.MaxRetryError(None, "/apis/coordination.k8s.io", "connection refused")


def test_a_transport_error_is_a_failed_attempt_not_the_end_of_the_election() -> None:
    """The client's LeaseLock catches only ApiException: left alone, this error would end the
    election thread (and a leader would keep acting without renewing)."""
    unreachable = UnreachableApi()
    lock = LeaseLock("ferry-operator", "ns", "a_1")
    lock.api_instance = _BoundedLeaseApi(unreachable, 3.0, "ns/ferry-operator")  # type: ignore[arg-type]
    found, error = lock.get("ferry-operator", "ns")
    assert found is False
    assert isinstance(error, ApiException) and error.status == 0
    assert unreachable.timeouts == [3.0]


def test_an_api_refusal_passes_through() -> None:
    class Forbidden(UnreachableApi):
        def read_namespaced_lease(self, name: str, namespace: str, **kwargs: Any) -> Any:
            raise ApiException(status=403, reason="Forbidden")

    api = _BoundedLeaseApi(Forbidden(), 3.0, "ns/ferry-operator")  # type: ignore[arg-type]
    with pytest.raises(ApiException) as refused:
        api.read_namespaced_lease("ferry-operator", "ns")
    assert refused.value.status == 403
