"""DatabaseConnection handlers: probe on change, on a health-check timer and on Secret changes.

kopf timers have one fixed interval per handler, while each connection declares its own
`healthCheck.intervalSeconds`. So one short tick runs per object and probes only when it is
due: the interval has passed, or a referenced Secret changed (its resourceVersion differs from
the one seen at the last probe). The versions come from a metadata-only `get` of each referenced
Secret every SECRET_CHECK_SECONDS, not from a watch: the operator never lists or watches Secrets,
so it holds no copy of the cluster's Secrets and needs no cluster-wide list permission. A Secret
fix is therefore picked up within seconds, without touching the DatabaseConnection.

The handlers only unpack kopf's arguments; the probe is `ferry.db.probe`, credentials come
through `KubeSecretSource`, and status changes go through `apply_probe_result`. Before each
probe the Project's connection rules are read afresh (`ferry.services.connection_policy`): a
Secret they do not allow is not read, and a host or port they do not allow is not connected to.
"""

from __future__ import annotations

import asyncio
import copy
import functools
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import kopf
from kubernetes import client
from pydantic import ValidationError

from ferry.api import conditions as c
from ferry.api.base import now_rfc3339
from ferry.api.connection import SQLITE_IN_CLUSTER, DatabaseConnectionSpec, DatabaseConnectionStatus, Engine
from ferry.api.kinds import DATABASE_CONNECTION, GROUP, VERSION
from ferry.api.spec_errors import spec_problems
from ferry.db.credentials import SecretError, resolve_credentials
from ferry.db.errors import classify
from ferry.db.probe import PROBE_STEPS, ProbeResult, probe
from ferry.kube.client import shared_api_client
from ferry.kube.events import involved_object, post_event
from ferry.kube.secrets import KubeSecretSource, secret_versions
from ferry.kube.status import patch_status
from ferry.observability.logging import get_logger
from ferry.observability.metrics import forget_connection, record_connection_budget, record_connection_probe
from ferry.observability.redaction import register_secret
from ferry.services.connection_policy import Refusal, refused_destination, refused_secrets
from ferry.services.connection_users import held_by
from ferry.services.governance import ProjectIndex, governance_for, governance_from_index
from ferry.services.policy import Governance
from ferry.services.probe_runner import Finished, ProbeRunner

PLURAL = DATABASE_CONNECTION.plural
# How often each connection checks whether a probe is due; bounds the delay of a re-probe
# after a Secret changes.
TICK_SECONDS = 3.0
# Probes run in their own pool, at most one per connection (ferry.services.probe_runner).
PROBES = ProbeRunner()

log = get_logger(__name__)

# How often a connection reads its Secrets' resourceVersions (one metadata-only get each): bounds
# the delay of a re-probe after a Secret changes without a cluster-wide watch of Secrets.
SECRET_CHECK_SECONDS = 10.0


# --- Pure pieces ----------------------------------------------------------------------------


def referenced_secrets(spec: DatabaseConnectionSpec) -> list[str]:
    """Names of the Secrets whose content the connection depends on."""
    refs = [
        spec.credentials_secret_ref,
        spec.url_secret_ref,
        spec.tls.ca_secret_ref,
        spec.tls.client_cert_secret_ref,
    ]
    return sorted({ref.name for ref in refs if ref is not None})


def secrets_fingerprint(
    spec: DatabaseConnectionSpec, versions: Mapping[str, str]
) -> tuple[tuple[str, str], ...]:
    """The resourceVersions of the referenced Secrets ("" when absent): changes on any edit."""
    return tuple((name, versions.get(name, "")) for name in referenced_secrets(spec))


async def _fingerprint(namespace: str, spec: DatabaseConnectionSpec) -> tuple[tuple[str, str], ...]:
    def read() -> dict[str, str]:
        return secret_versions(shared_api_client(), namespace, referenced_secrets(spec))

    return secrets_fingerprint(spec, await asyncio.to_thread(read))


def apply_probe_result(
    status: DatabaseConnectionStatus, result: ProbeResult, generation: int, checked_at: str
) -> bool:
    """Record a probe in `status`; True when `Ready` changed (an event is due)."""
    status.observed_generation = generation
    status.last_check_time = checked_at
    if result.ok:
        status.server_version = result.server_version
        status.latency_ms = result.latency_ms
        status.consecutive_failures = 0
        flipped = status.set_condition(c.READY, "True", result.reason, result.message, generation)
        status.remove_condition(c.STALLED)
    else:
        status.latency_ms = None
        status.consecutive_failures += 1
        flipped = status.set_condition(c.READY, "False", result.reason, result.message, generation)
        if result.permanent:
            status.set_condition(c.STALLED, "True", result.reason, result.message, generation)
        else:
            status.remove_condition(c.STALLED)
    status.set_condition(c.RECONCILING, "False", result.reason, "", generation)
    return flipped


# --- Services -------------------------------------------------------------------------------


def _refused(refusal: Refusal) -> ProbeResult:
    return ProbeResult(False, None, 0.0, refusal.reason, refusal.message)


def check_connection(
    api: client.ApiClient, namespace: str, spec: DatabaseConnectionSpec, governance: Governance | None = None
) -> ProbeResult:
    """Check the Project's rules, resolve the credentials from Secrets and probe; every failure
    becomes a ProbeResult. The rules come first: a refused connection reads no Secret it may not
    name and opens no network connection, so its credentials are never sent anywhere."""
    if spec.engine == Engine.SQLITE:  # stored before the CRD refused it: the operator cannot see the file
        return ProbeResult(False, None, 0.0, c.INVALID_SPEC, SQLITE_IN_CLUSTER)
    timeout = float(spec.health_check.timeout_seconds)
    governance = governance or governance_for(api, namespace)
    refusal = refused_secrets(spec, governance)
    if refusal is not None:
        return _refused(refusal)
    try:
        credentials = resolve_credentials(spec, KubeSecretSource(client.CoreV1Api(api), namespace))
    except SecretError as exc:
        found = classify(exc, spec, spec.host or spec.database, timeout)
        return ProbeResult(False, None, 0.0, found.reason, found.message)
    for value in credentials.secret_values():
        register_secret(value)
    refusal = refused_destination(spec, credentials, governance)
    if refusal is not None:
        return _refused(refusal)
    return probe(spec, credentials, timeout)


@dataclass
class _ObjectState:
    """What the operator remembers about one connection between ticks (lost on restart: resume re-probes)."""

    lock: asyncio.Lock
    last_probe: float = float("-inf")
    last_secret_check: float = float("-inf")
    fingerprint: tuple[Any, ...] | None = None
    generation: int | None = None


def _state(memo: kopf.Memo) -> _ObjectState:
    if "connection" not in memo:
        memo["connection"] = _ObjectState(lock=asyncio.Lock())
    state: _ObjectState = memo["connection"]
    return state


async def _run_probe(
    api: client.ApiClient, key: tuple[str, str], spec: DatabaseConnectionSpec, governance: Governance
) -> ProbeResult:
    limit = float(spec.health_check.timeout_seconds) * PROBE_STEPS + 5
    ran = await PROBES.run(key, functools.partial(check_connection, api, key[0], spec, governance), limit)
    if isinstance(ran, Finished):
        return ran.value
    message = (
        "the previous probe has not ended yet"
        if ran.previous
        else f"the probe did not finish within {limit:g}s"
    ) + "; check that the server is not overloaded or hung"
    return ProbeResult(False, None, limit * 1000, c.TIMEOUT, message)


async def _check(
    body: kopf.Body, spec: DatabaseConnectionSpec, patch: kopf.Patch, state: _ObjectState,
    fingerprint: tuple[Any, ...], governance: Governance, *, reconciling: bool,
) -> None:  # fmt: skip
    namespace, name = body.metadata.namespace or "", body.metadata.name or ""
    generation = int(body.metadata.get("generation") or 0)
    status = DatabaseConnectionStatus.model_validate(dict(body.status))
    api = shared_api_client()
    if reconciling and status.observed_generation != generation:
        status.set_condition(c.RECONCILING, "True", c.PROBING, "probing the database", generation)
        await asyncio.to_thread(
            patch_status,
            api,
            DATABASE_CONNECTION,
            namespace,
            name,
            {"conditions": status.to_wire()["conditions"]},
        )
    record_connection_budget(namespace, name, spec.max_connections)
    if spec.max_connections is not None and status.condition(c.READY) is not None:
        # maxConnections: while a Migration uses the connection its workers hold the whole budget
        # and their progress shows the database answers; the probe waits (connection_budget).
        holder = await asyncio.to_thread(held_by, api, namespace, name)
        if holder is not None:
            state.last_probe, state.fingerprint, state.generation = time.monotonic(), fingerprint, generation
            log.debug("probe deferred: a Migration holds the connection", namespace=namespace, name=name,
                      migration=holder)  # fmt: skip
            return
    started = time.monotonic()
    result = await _run_probe(api, (namespace, name), spec, governance)
    seconds = time.monotonic() - started
    state.last_probe, state.fingerprint, state.generation = time.monotonic(), fingerprint, generation
    flipped = apply_probe_result(status, result, generation, now_rfc3339())
    patch.status.update(status.to_wire())
    record_connection_probe(
        namespace, name, spec.engine.value, ok=result.ok, seconds=seconds, reason=result.reason
    )
    fields = {
        "namespace": namespace,
        "name": name,
        "reason": result.reason,
        "latency_ms": result.latency_ms,
    }
    if flipped:
        log.info(
            "connection ready" if result.ok else "connection not ready", **fields, message=result.message
        )
        await asyncio.to_thread(
            post_event,
            api,
            involved_object(body),
            "Normal" if result.ok else "Warning",
            result.reason,
            result.message,
        )
    else:
        log.debug("connection probed", **fields)


def _invalid_spec(exc: ValidationError) -> ProbeResult:
    """The CRD schema refuses almost all of this; what gets through cannot heal by retrying."""
    return ProbeResult(False, None, 0.0, c.INVALID_SPEC, spec_problems(exc))


# --- Handlers -------------------------------------------------------------------------------


@kopf.index(GROUP, VERSION, PLURAL)
def connection_index(
    namespace: str | None, name: str, spec: kopf.Spec, status: kopf.Status, **_: Any
) -> dict[tuple[str, str], dict[str, Any]]:
    """DatabaseConnections by (namespace, name), spec and status as the watch last saw them
    (ferry.services.connection_refs.ConnectionIndex): a Migration's reconcile looks its two
    connections up here instead of reading them from the API each time."""
    return {
        (namespace or "", name): {"spec": copy.deepcopy(dict(spec)), "status": copy.deepcopy(dict(status))}
    }


def _governance(body: kopf.Body, kwargs: dict[str, Any]) -> Governance:
    """The namespace's Project from kopf's index of Projects (ferry.controllers.project)."""
    index: ProjectIndex = kwargs["project_index"]
    return governance_from_index(index, body.metadata.namespace or "")


@kopf.on.resume(GROUP, VERSION, PLURAL)
@kopf.on.create(GROUP, VERSION, PLURAL)
@kopf.on.update(GROUP, VERSION, PLURAL, field="spec")
async def connection_changed(
    body: kopf.Body,
    spec: kopf.Spec,
    patch: kopf.Patch,
    memo: Any,
    **kwargs: Any,
) -> None:
    try:
        parsed = DatabaseConnectionSpec.model_validate(dict(spec))
    except ValidationError as exc:
        status = DatabaseConnectionStatus.model_validate(dict(body.status))
        generation = int(body.metadata.get("generation") or 0)
        apply_probe_result(status, _invalid_spec(exc), generation, now_rfc3339())
        patch.status.update(status.to_wire())
        return
    state = _state(memo)
    async with state.lock:
        fingerprint = await _fingerprint(body.metadata.namespace or "", parsed)
        state.last_secret_check = time.monotonic()
        governance = _governance(body, kwargs)
        await _check(body, parsed, patch, state, fingerprint, governance, reconciling=True)


@kopf.timer(GROUP, VERSION, PLURAL, interval=TICK_SECONDS, initial_delay=TICK_SECONDS)
async def connection_health(
    body: kopf.Body,
    spec: kopf.Spec,
    patch: kopf.Patch,
    memo: Any,
    **kwargs: Any,
) -> None:
    try:
        parsed = DatabaseConnectionSpec.model_validate(dict(spec))
    except ValidationError:
        return  # connection_changed has reported it
    state = _state(memo)
    if state.lock.locked():
        return  # a probe is running; the next tick looks again
    async with state.lock:
        now = time.monotonic()
        due = now - state.last_probe >= parsed.health_check.interval_seconds
        fingerprint = state.fingerprint or ()
        if now - state.last_secret_check >= SECRET_CHECK_SECONDS:
            fingerprint = await _fingerprint(body.metadata.namespace or "", parsed)
            state.last_secret_check = now
        if due or fingerprint != state.fingerprint:
            governance = _governance(body, kwargs)
            await _check(body, parsed, patch, state, fingerprint, governance, reconciling=False)


@kopf.on.delete(GROUP, VERSION, PLURAL, optional=True)
def connection_deleted(namespace: str | None, name: str, **_: Any) -> None:
    forget_connection(namespace or "", name)
