"""Generated specs against the real kube-apiserver and the running operator.

Invalid specs (tests/harness/spec_fuzz.py: every violation the CRD schema can express and the
CEL rules) are refused by the apiserver with a message naming the field. What the apiserver
must admit because only the operator can judge it (a cron expression, a time zone), and
generated valid specs, leave the operator alive and quiet: the odd ones Stalled with reason
InvalidSpec and the field named, each object written a bounded number of times.
"""

from __future__ import annotations

import copy
import functools
import json
import threading
import time
from collections import Counter
from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from kubernetes import client, watch
from kubernetes.client.exceptions import ApiException

from ferry.api.kinds import GROUP, VERSION
from harness.kube import wait_for
from harness.operator_process import OperatorProcess
from harness.spec_fuzz import PLURALS, Case, all_invalid_cases, invalid_specs, valid_specs, with_tweaks

# Bounded: each example is one create call (a few ms); the whole test stays well under a minute.
BOUNDED = settings(
    max_examples=150,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
QUIET_SECONDS = 10.0  # how long the status writes of the admitted objects are counted
MAX_WRITES = 3  # per object in that time: a probe or reconcile that loops would write on every tick


def _create(objects: client.CustomObjectsApi, namespace: str, body: dict[str, Any]) -> None:
    plural = PLURALS[body["kind"]]
    if body["kind"] == "Project":
        objects.create_cluster_custom_object(GROUP, VERSION, plural, body, field_validation="Strict")
    else:
        objects.create_namespaced_custom_object(
            GROUP, VERSION, namespace, plural, body, field_validation="Strict"
        )


@pytest.fixture
def objects(kube_api: client.ApiClient, crds: list[str]) -> client.CustomObjectsApi:
    return client.CustomObjectsApi(kube_api)


def test_every_invalid_spec_is_refused_by_the_apiserver_naming_its_field(
    objects: client.CustomObjectsApi, namespace: str
) -> None:
    admitted: list[Case] = []
    seen: Counter[str] = Counter()

    def send(case: Case) -> None:
        seen[case.why] += 1
        try:
            _create(objects, namespace, case.body(f"fuzz-{sum(seen.values())}"))
        except ApiException as exc:
            assert exc.status in (400, 422), exc.body
            message = str(json.loads(exc.body)["message"])
            assert case.path is not None and case.path in message, (case, message)
            return
        admitted.append(case)

    # Every case once as generated, so each kind of violation is sent on every run (a random
    # sample of 150 missed all 11 CEL cases in about one run in thirty)...
    for case in all_invalid_cases():
        send(case)

    # ...then random cases again with valid values set around them, which must not mask the fault.
    @BOUNDED
    @given(invalid_specs(), st.data())
    def check(case: Case, data: st.DataObject) -> None:
        send(with_tweaks(case, data.draw(valid_specs(case.kind))))

    check()
    assert admitted == [], f"the apiserver admitted invalid specs: {admitted}"
    assert {"wrong type", "missing", "unknown field", "CEL rule"} <= set(seen), seen


# Specs only the operator can judge: the apiserver admits them; the operator stalls them, naming
# the field, and does not retry.
ODD_MIGRATIONS: dict[str, tuple[dict[str, Any], str]] = {
    "bad-cron": (
        {"schedule": {"windows": [{"start": "every night", "duration": "6h"}]}},
        "spec.schedule.windows",
    ),
    "bad-zone": (
        {"schedule": {"windows": [{"start": "0 22 * * *", "duration": "1h", "timeZone": "Mars/Olympus"}]}},
        "spec.schedule.windows",
    ),
}


def _migration(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Migration", "metadata": {"name": name}, "spec": spec}


def _count_writes(api: client.ApiClient, namespace: str, seconds: float) -> Counter[str]:
    """MODIFIED events per object of the namespace's Migrations and DatabaseConnections."""
    writes: Counter[str] = Counter()

    def follow(plural: str) -> None:
        stream = watch.Watch()
        listing = client.CustomObjectsApi(api).list_namespaced_custom_object
        for event in stream.stream(
            listing,
            GROUP,
            VERSION,
            namespace,
            plural,
            timeout_seconds=int(seconds),
            _request_timeout=seconds + 5,
        ):
            if event["type"] == "MODIFIED":
                writes[f"{plural}/{event['object']['metadata']['name']}"] += 1

    threads = [threading.Thread(target=follow, args=(p,)) for p in ("migrations", "databaseconnections")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return writes


def test_odd_and_generated_specs_leave_the_operator_alive_and_quiet(
    kube_api: client.ApiClient, objects: client.CustomObjectsApi, namespace: str, operator: OperatorProcess
) -> None:
    for name, (fields, _) in ODD_MIGRATIONS.items():
        base = {
            "source": {"connectionRef": {"name": "legacy"}},
            "target": {"connectionRef": {"name": "modern"}},
        }
        _create(objects, namespace, _migration(name, {**base, **fields}))
    generated: list[str] = []

    @settings(BOUNDED, max_examples=12)
    @given(st.sampled_from(["Migration", "DatabaseConnection"]).flatmap(valid_specs))
    def create(case: Case) -> None:
        spec = copy.deepcopy(case.spec)
        if case.kind == "DatabaseConnection":  # nothing listens there: the probe fails at once
            spec.update(host="127.0.0.1", port=9, healthCheck={"intervalSeconds": 60, "timeoutSeconds": 2})
        name = f"gen-{len(generated)}"
        _create(objects, namespace, Case(case.kind, spec, None, "valid").body(name))
        generated.append(f"{PLURALS[case.kind]}/{name}")

    create()

    def stalled(name: str) -> dict[str, Any] | None:
        status = objects.get_namespaced_custom_object(GROUP, VERSION, namespace, "migrations", name).get(
            "status"
        )
        found = [
            c
            for c in (status or {}).get("conditions", [])
            if c["type"] == "Stalled" and c["status"] == "True"
        ]
        return found[0] if found else None

    for name, (_, path) in ODD_MIGRATIONS.items():
        found = wait_for(functools.partial(stalled, name), timeout=60, what=f"Migration {name} Stalled")
        assert found["reason"] == "InvalidSpec" and path in found["message"], found

    started = time.monotonic()
    writes = _count_writes(kube_api, namespace, QUIET_SECONDS)
    assert time.monotonic() - started >= QUIET_SECONDS - 1  # the watch ran its whole window
    assert operator.running, operator.log_text()[-3000:]
    assert all(count <= MAX_WRITES for count in writes.values()), writes
    assert "Traceback" not in operator.log_text(), operator.log_text()[-3000:]
