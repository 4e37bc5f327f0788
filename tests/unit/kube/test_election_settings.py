"""Leader-election settings: a leader that lost the lease is gone before anyone can take it."""

from __future__ import annotations

import pytest
from kubernetes.leaderelection import electionconfig

from ferry.kube.election_settings import (
    WATCH_INTERVAL,
    ElectionSettings,
    candidate_identity,
    election_namespace,
)


def test_defaults_are_client_gos_and_the_library_accepts_them() -> None:
    settings = ElectionSettings("ferry-system", "ferry-operator", "me")
    assert (settings.lease_duration, settings.renew_deadline, settings.retry_period) == (15, 10, 2)
    config = electionconfig.Config(
        lock=object(),
        lease_duration=settings.lease_duration,
        renew_deadline=settings.renew_deadline,
        retry_period=settings.retry_period,
        onstarted_leading=lambda: None,
        onstopped_leading=None,
    )
    assert config.lease_duration == 15


def test_a_leader_that_stops_renewing_is_gone_before_the_lease_expires() -> None:
    settings = ElectionSettings("ns", "lease", "me")
    # Stop at the renew deadline (seen by the watchdog within one interval), exit after the grace.
    latest_exit = settings.renew_deadline + WATCH_INTERVAL + settings.stop_grace
    assert latest_exit < settings.lease_duration
    assert settings.stop_grace >= 1, "kopf gets a moment to stop cleanly"


def test_a_renewal_of_two_slow_calls_fits_in_the_renew_deadline() -> None:
    settings = ElectionSettings("ns", "lease", "me")
    assert 2 * settings.request_timeout + settings.retry_period < settings.renew_deadline


def test_a_lease_too_short_for_a_clean_handover_is_refused() -> None:
    with pytest.raises(ValueError, match="must exceed renew_deadline"):
        ElectionSettings("ns", "lease", "me", lease_duration=11, renew_deadline=10)


def test_namespace_from_the_flag_then_the_pod_then_ferry_system() -> None:
    assert election_namespace("ops", {"POD_NAMESPACE": "platform"}) == "ops"
    assert election_namespace(None, {"POD_NAMESPACE": "platform"}) == "platform"
    assert election_namespace(None, {"POD_NAMESPACE": ""}) == "ferry-system"
    assert election_namespace(None, {}) == "ferry-system"


def test_identity_is_the_pod_or_the_host_and_new_for_every_process() -> None:
    first, second = (candidate_identity({"POD_NAME": "ferry-operator-abc"}) for _ in range(2))
    assert first.startswith("ferry-operator-abc_") and second.startswith("ferry-operator-abc_")
    assert first != second, "a restarted container must not take its predecessor's lease as its own"
    assert candidate_identity({}, hostname="laptop").startswith("laptop_")
