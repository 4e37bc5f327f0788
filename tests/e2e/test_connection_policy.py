"""A Project's connection rules end to end: the shipped admission policy on a real apiserver, an
editor using kubectl, the operator (as its ServiceAccount) and a real database.

The shipped binding matches every namespace; here it is bound to the test's namespaces only, so
other tests of the session are not affected.
"""

from __future__ import annotations

import base64
import itertools
import json
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from ferry.api.kinds import DATABASE_CONNECTION, GROUP, PROJECT, VERSION
from harness.controlplane import ControlPlane, assets_dir
from harness.databases import Database, PostgresServer
from harness.kube import wait_for
from harness.operator_process import OperatorProcess
from integration.connection.cleartext_servers import RecordingServer, postgres_cleartext
from unit.services.connection_policy_cases import (
    ALLOWED_HOSTS,
    ALLOWED_PORTS,
    ALLOWED_SECRETS,
    HOST_CASES,
    PORT_CASES,
    SECRET_CASES,
)

REPO = Path(__file__).resolve().parents[2]
POLICY = REPO / "manifests" / "policies" / "ferry-connection-policy.yaml"
CHART = REPO / "charts" / "ferry"
USER_ROLES = REPO / "manifests" / "install" / "clusterroles-users.yaml"
PLURAL = DATABASE_CONNECTION.plural
WAIT = 60  # seconds; generous for a loaded 2-core machine, never a speed assertion


class Policy:
    """The shipped policy, bound (under another name) to the namespaces a test adds."""

    def __init__(self, api: client.ApiClient) -> None:
        self.admission = client.AdmissionregistrationV1Api(api)
        self.bindings: list[str] = []
        docs = list(yaml.safe_load_all(POLICY.read_text()))
        self.binding = next(d for d in docs if d["kind"] == "ValidatingAdmissionPolicyBinding")
        policy = next(d for d in docs if d["kind"] == "ValidatingAdmissionPolicy")
        try:
            self.admission.create_validating_admission_policy(policy)
        except ApiException as error:
            if error.status != 409:
                raise
            self.admission.patch_validating_admission_policy(policy["metadata"]["name"], policy)

    def bind(self, namespace: str) -> None:
        binding = json.loads(json.dumps(self.binding))
        binding["metadata"]["name"] = f"{binding['metadata']['name']}-{namespace}"
        binding["spec"]["matchResources"] = {
            "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}}
        }
        self.admission.create_validating_admission_policy_binding(binding)
        self.bindings.append(binding["metadata"]["name"])

    def unbind_all(self) -> None:
        for name in self.bindings:
            self.admission.delete_validating_admission_policy_binding(name)


@pytest.fixture
def policy(kube_api: client.ApiClient, crds: list[str]) -> Iterator[Policy]:
    shipped = Policy(kube_api)
    yield shipped
    shipped.unbind_all()


def project(api: client.ApiClient, name: str, spec: dict[str, Any]) -> None:
    body = {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Project", "metadata": {"name": name}, "spec": spec}
    client.CustomObjectsApi(api).create_cluster_custom_object(GROUP, VERSION, PROJECT.plural, body)


def connection_body(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "DatabaseConnection", "metadata": {"name": name},
            "spec": spec}  # fmt: skip


def secret(api: client.ApiClient, namespace: str, name: str, data: dict[str, str]) -> None:
    encoded = {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}
    client.CoreV1Api(api).create_namespaced_secret(namespace, {"metadata": {"name": name}, "data": encoded})


class Editor:
    """`kubectl apply -f` as a user with the editor role in the namespace."""

    def __init__(self, plane: ControlPlane, user: str, namespace: str, workdir: Path) -> None:
        self.plane, self.token, self.namespace, self.workdir = (
            plane,
            plane.user_token(user),
            namespace,
            workdir,
        )

    def apply(self, name: str, spec: dict[str, Any]) -> subprocess.CompletedProcess[str]:
        path = self.workdir / f"{name}.yaml"
        path.write_text(yaml.safe_dump(connection_body(name, spec)))
        return self.plane.kubectl(
            "apply", "-n", self.namespace, "-f", str(path), token=self.token, check=False
        )

    def refused(self, spec: dict[str, Any]) -> str:
        """Apply under fresh names until the apiserver's RBAC and policy caches have caught up and
        the policy refuses; the refusal's text."""
        names = (f"try-{n}" for n in itertools.count())

        def attempt() -> str | None:
            result = self.apply(next(names), spec)
            if result.returncode == 0 or "cannot create resource" in result.stderr:
                return None  # admitted before the policy or the editor binding took effect
            return result.stderr

        return wait_for(attempt, WAIT, "the policy to refuse")


def ready(api: client.ApiClient, namespace: str, name: str) -> dict[str, dict[str, Any]] | None:
    obj = client.CustomObjectsApi(api).get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name)
    status = obj.get("status") or {}
    if status.get("observedGeneration") != obj["metadata"]["generation"]:
        return None
    return {c["type"]: c for c in status.get("conditions", [])}


def wait_reason(api: client.ApiClient, namespace: str, name: str, status: str, reason: str) -> dict[str, Any]:
    def check() -> dict[str, dict[str, Any]] | None:
        conditions = ready(api, namespace, name)
        found = (conditions or {}).get("Ready")
        return conditions if found and (found["status"], found["reason"]) == (status, reason) else None

    try:
        return wait_for(check, WAIT, f"{name} Ready={status} {reason}")
    except TimeoutError:
        raise AssertionError(
            f"{name}: wanted Ready={status} {reason}, have {ready(api, namespace, name)}"
        ) from None


def test_an_editor_cannot_send_the_namespace_credentials_elsewhere(
    control_plane: ControlPlane, kube_api: client.ApiClient, policy: Policy, operator: OperatorProcess,
    pg_server: PostgresServer, tmp_path: Path,
) -> None:  # fmt: skip
    control_plane.kubectl("apply", "--server-side", "-f", str(USER_ROLES))
    name = f"conn-{uuid.uuid4().hex[:6]}"
    policy.bind(name)
    db: Database = pg_server.create_database()
    project(kube_api, name, {
        "members": [{"kind": "User", "name": "alice", "role": "editor"}],
        "policy": {"connections": {"allowedHosts": ["127.0.0.1/32"], "allowedPorts": [db.port],
                                   "allowedSecrets": ["app-*"]}},
    })  # fmt: skip
    wait_for(lambda: ready_project(kube_api, name), WAIT, f"Project {name} Ready")
    # The namespace admin's Secrets: two with the database's real credentials, one a URL.
    creds = {"username": db.user, "password": db.password}
    secret(kube_api, name, "app-creds", creds)
    secret(kube_api, name, "payroll-creds", creds)
    alice = Editor(control_plane, "alice", name, tmp_path)
    allowed = {"engine": "postgresql", "host": "127.0.0.1", "port": db.port, "database": db.name,
               "credentialsSecretRef": {"name": "app-creds"},
               "healthCheck": {"intervalSeconds": 5}}  # fmt: skip

    # At admission: a host of alice's choosing, a Secret she may not name, another port.
    message = alice.refused({**allowed, "host": "collector.evil.example"})
    assert 'spec.host: host "collector.evil.example" is not allowed by Project' in message
    message = alice.refused({**allowed, "credentialsSecretRef": {"name": "payroll-creds"}})
    assert 'spec.credentialsSecretRef.name: Secret "payroll-creds" is not allowed' in message
    message = alice.refused({**allowed, "port": db.port + 1})
    assert f"spec.port: port {db.port + 1} is not allowed" in message
    message = alice.refused({**allowed, "options": {"params": {"hostaddr": "203.0.113.9"}}})
    assert 'spec.options.params: parameter "hostaddr"' in message

    # What the rules allow is admitted and works against the real database.
    result = alice.apply("orders", allowed)
    assert result.returncode == 0, result.stderr
    wait_reason(kube_api, name, "orders", "True", "Connected")

    # A URL in a Secret hides its host from admission: the operator refuses before connecting.
    with RecordingServer(postgres_cleartext) as trap:
        url = f"postgresql://{db.user}:{db.password}@localhost:{trap.port}/{db.name}"
        secret(kube_api, name, "app-url", {"url": url})
        hidden = {"engine": "postgresql", "database": db.name, "urlSecretRef": {"name": "app-url"}}
        result = alice.apply("hidden", hidden)
        assert result.returncode == 0, result.stderr
        conditions = wait_reason(kube_api, name, "hidden", "False", "HostNotAllowed")
        assert conditions["Ready"]["message"].startswith(
            'the URL in Secret "app-url" key "url" (spec.urlSecretRef): host "localhost" is not allowed'
        )
        assert conditions["Stalled"]["status"] == "True"
        assert trap.connections == 0 and db.password.encode() not in trap.received

    # Rules tightened after admission: the next probe refuses the connection that was Ready, and
    # an update that leaves its spec alone (labels, kopf's finalizer) still passes admission.
    client.CustomObjectsApi(kube_api).patch_cluster_custom_object(
        GROUP,
        VERSION,
        PROJECT.plural,
        name,
        {"spec": {"policy": {"connections": {"allowedHosts": ["10.0.0.0/8"]}}}},
    )
    conditions = wait_reason(kube_api, name, "orders", "False", "HostNotAllowed")
    assert conditions["Ready"]["message"].startswith('spec.host: host "127.0.0.1" is not allowed')
    labelled = control_plane.kubectl(
        "label",
        "-n",
        name,
        "dbc",
        "orders",
        "team=shop",
        token=control_plane.user_token("alice"),
        check=False,
    )
    assert labelled.returncode == 0, labelled.stderr


def ready_project(api: client.ApiClient, name: str) -> bool:
    obj = client.CustomObjectsApi(api).get_cluster_custom_object(GROUP, VERSION, PROJECT.plural, name)
    return any(
        c["type"] == "Ready" and c["status"] == "True"
        for c in (obj.get("status") or {}).get("conditions", [])
    )


def test_admission_and_the_operator_match_the_same_cases(
    kube_api: client.ApiClient, policy: Policy, namespace: str
) -> None:
    """Every case of connection_policy_cases.py through the shipped CEL (server-side dry runs);
    the unit tests run the same cases through the operator's check."""
    policy.bind(namespace)
    rules = {"allowedHosts": ALLOWED_HOSTS, "allowedPorts": ALLOWED_PORTS, "allowedSecrets": ALLOWED_SECRETS}
    project(kube_api, f"cases-{namespace}", {"namespace": namespace, "policy": {"connections": rules}})
    custom = client.CustomObjectsApi(kube_api)
    base = {"engine": "postgresql", "host": "db.example.com", "database": "d",
            "credentialsSecretRef": {"name": "app-creds"}}  # fmt: skip

    def admitted(spec: dict[str, Any]) -> bool:
        try:
            custom.create_namespaced_custom_object(
                GROUP, VERSION, namespace, PLURAL, connection_body("x", {**base, **spec}), dry_run="All"
            )
        except ApiException as error:
            assert error.status == 403, error.body
            return False
        return True

    wait_for(lambda: not admitted({"host": "not.allowed.example"}), WAIT, "the policy to see the Project")
    wrong = [
        f"host {host!r} ({why})"
        for host, allowed, why in HOST_CASES
        if admitted({"host": host}) is not allowed
    ]
    wrong += [f"secret {name!r}" for name, allowed in SECRET_CASES
              if admitted({"credentialsSecretRef": {"name": name}}) is not allowed]  # fmt: skip
    wrong += [f"port {port}" for port, allowed in PORT_CASES if admitted({"port": port}) is not allowed]
    assert wrong == []
    # A namespace no Project governs is not restricted (today's behaviour).
    try:
        custom.create_namespaced_custom_object(
            GROUP,
            VERSION,
            "default",
            PLURAL,
            connection_body("x", {**base, "host": "anywhere.example"}),
            dry_run="All",
        )
    except ApiException as error:
        pytest.fail(f"an ungoverned namespace was restricted: {error.body}")


def _render(*args: str) -> list[dict[str, Any]]:
    argv = [str(assets_dir() / "helm"), "template", "ferry", str(CHART), "--namespace", "ferry-system", *args]
    out = subprocess.run(argv, check=True, capture_output=True, text=True, timeout=60).stdout
    return [doc for doc in yaml.safe_load_all(out) if doc and doc["kind"].startswith("ValidatingAdmission")]


def test_the_chart_ships_the_policy_on_kubernetes_1_31_and_later() -> None:
    shipped = [doc for doc in yaml.safe_load_all(POLICY.read_text()) if doc]
    names = {doc["metadata"]["name"] for doc in shipped}

    def connection_policy(*argv: str) -> list[dict[str, Any]]:  # the chart also ships other policies
        return [doc for doc in _render(*argv) if doc["metadata"]["name"] in names]

    assert connection_policy("--kube-version", "1.31.0") == shipped
    assert connection_policy("--kube-version", "1.30.9") == []  # no CEL IP/CIDR library: NOTES.txt says so
    assert connection_policy("--kube-version", "1.34.0", "--set", "admissionPolicies.connections=false") == []
