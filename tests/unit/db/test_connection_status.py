"""How a probe result becomes DatabaseConnection status, and when an event is due."""

from __future__ import annotations

from ferry.api import conditions as c
from ferry.api.connection import DatabaseConnectionSpec, DatabaseConnectionStatus
from ferry.controllers.connection import (
    apply_probe_result,
    check_connection,
    referenced_secrets,
    secrets_fingerprint,
)
from ferry.db.probe import ProbeResult
from ferry.kube.events import build_event

UP = ProbeResult(True, "15.8", 3.2, c.CONNECTED, "connected")
AUTH = ProbeResult(False, None, 1.0, c.AUTHENTICATION_FAILED, "rejected")
BAD_URL = ProbeResult(False, None, 0.0, c.INVALID_SPEC, "bad url")


def test_transitions_flip_ready_once_and_count_failures() -> None:
    status = DatabaseConnectionStatus()
    assert apply_probe_result(status, UP, 3, "t1")  # first result: an event
    assert not apply_probe_result(status, UP, 3, "t2")  # steady: none
    assert status.server_version == "15.8" and status.latency_ms == 3.2 and status.observed_generation == 3
    assert apply_probe_result(status, AUTH, 3, "t3")
    assert not apply_probe_result(status, AUTH, 3, "t4")
    ready = status.condition(c.READY)
    assert ready is not None and (ready.status, ready.reason) == ("False", c.AUTHENTICATION_FAILED)
    assert status.consecutive_failures == 2 and status.latency_ms is None
    assert status.server_version == "15.8"  # the last known server stays visible
    assert status.condition(c.STALLED) is None
    assert apply_probe_result(status, UP, 4, "t5")
    assert status.consecutive_failures == 0 and status.last_check_time == "t5"
    reconciling = status.condition(c.RECONCILING)
    assert reconciling is not None and reconciling.status == "False"


def test_only_unfixable_errors_stall() -> None:
    status = DatabaseConnectionStatus()
    apply_probe_result(status, BAD_URL, 1, "t")
    assert status.is_true(c.STALLED)
    apply_probe_result(status, AUTH, 1, "t")
    assert status.condition(c.STALLED) is None
    # The Project's connection rules refuse: stalled until the connection or the rules change.
    for reason in (c.HOST_NOT_ALLOWED, c.SECRET_NOT_ALLOWED):
        apply_probe_result(status, ProbeResult(False, None, 0.0, reason, "refused"), 1, "t")
        stalled = status.condition(c.STALLED)
        assert stalled is not None and (stalled.status, stalled.reason) == ("True", reason)
    # A server asking for a clear-text password may be reconfigured: retried, not stalled.
    apply_probe_result(status, ProbeResult(False, None, 0.0, c.CLEARTEXT_PASSWORD_REFUSED, "no"), 1, "t")
    assert status.condition(c.STALLED) is None


def test_referenced_secrets_and_fingerprint() -> None:
    spec = DatabaseConnectionSpec.model_validate(
        {
            "engine": "postgresql",
            "host": "h",
            "database": "d",
            "credentialsSecretRef": {"name": "creds"},
            "tls": {
                "mode": "verify-full",
                "caSecretRef": {"name": "ca"},
                "clientCertSecretRef": {"name": "creds"},
            },
        }
    )
    assert referenced_secrets(spec) == ["ca", "creds"]
    assert secrets_fingerprint(spec, {"creds": "7", "other": "1"}) == (("ca", ""), ("creds", "7"))


def test_event_builder_scrubs_and_references_the_object() -> None:
    obj = {
        "apiVersion": "ferry.dev/v1alpha1",
        "kind": "DatabaseConnection",
        "name": "pg",
        "namespace": "team",
        "uid": "u-1",
        "resourceVersion": None,
    }
    event = build_event(obj, "Warning", c.AUTHENTICATION_FAILED, "login postgresql://a:s3cr3t@h/d\nfailed")
    assert event["metadata"]["namespace"] == "team" and event["metadata"]["name"].startswith("pg.")
    assert event["involvedObject"] == {k: v for k, v in obj.items() if v is not None}
    assert "s3cr3t" not in event["message"] and "\n" not in event["message"]
    assert event["type"] == "Warning" and event["reason"] == c.AUTHENTICATION_FAILED


def test_invalid_spec_stalls_with_the_field_named() -> None:
    from pydantic import ValidationError

    from ferry.controllers.connection import _invalid_spec

    try:
        DatabaseConnectionSpec.model_validate({"engine": "oracle", "database": "d"})
    except ValidationError as exc:
        result = _invalid_spec(exc)
    status = DatabaseConnectionStatus()
    apply_probe_result(status, result, 2, "t")
    assert status.is_true(c.STALLED) and "spec.engine" in result.message


def test_a_sqlite_connection_stored_in_the_cluster_stalls_without_a_probe_and_points_to_ferry_run() -> None:
    sqlite = DatabaseConnectionSpec.model_validate({"engine": "sqlite", "database": "/data/chinook.db"})
    # No API client: the refusal comes before any Secret is read or any file is looked for.
    result = check_connection(None, "ns", sqlite)  # type: ignore[arg-type]
    assert (result.ok, result.reason) == (False, c.INVALID_SPEC)
    assert "sqlite is for ferry run (local mode)" in result.message
    status = DatabaseConnectionStatus()
    apply_probe_result(status, result, 1, "t")
    assert status.is_true(c.STALLED)
