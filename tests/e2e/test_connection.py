"""DatabaseConnection end to end: real apiserver, real operator process, real database servers.

Each scenario reads as a user would live it: apply a Secret and a connection, watch
`Ready`, fix what is wrong, watch it heal. Every test ends with a scan of statuses, events
and the operator's log for the secret values it used.
"""

from __future__ import annotations

import base64
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from ferry.api.kinds import DATABASE_CONNECTION, GROUP, VERSION
from harness.databases import Database, MariaDBServer, PostgresServer
from harness.kube import wait_for
from harness.operator_process import OperatorProcess
from harness.processes import free_port
from integration.connection.tls_servers import Pki, make_pki, start_tls_postgres

PLURAL = DATABASE_CONNECTION.plural
WAIT = 60  # seconds; generous for a loaded 2-core machine, never a speed assertion


@pytest.fixture(scope="module")
def pki() -> Pki:
    return make_pki()


@pytest.fixture(scope="module")
def pg_tls_server(pki: Pki) -> Iterator[PostgresServer]:
    server = start_tls_postgres(Path(tempfile.mkdtemp(prefix="ferry-e2e-pgtls-")), pki)
    yield server
    server.stop()


class Cluster:
    """What a user does with kubectl, for one namespace; remembers every secret value it wrote."""

    def __init__(self, api: client.ApiClient, namespace: str) -> None:
        self.core = client.CoreV1Api(api)
        self.custom = client.CustomObjectsApi(api)
        self.namespace = namespace
        self.secret_values: set[str] = set()

    def secret(self, name: str, data: dict[str, str]) -> None:
        self.secret_values.update(v for k, v in data.items() if k not in ("username", "ca.crt"))
        body = {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": name},
            "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()},
        }
        try:
            self.core.create_namespaced_secret(self.namespace, body)
        except client.ApiException as exc:
            if exc.status != 409:
                raise
            self.core.replace_namespaced_secret(name, self.namespace, body)

    def connection(self, name: str, spec: dict[str, Any]) -> None:
        body = {"apiVersion": f"{GROUP}/{VERSION}", "kind": "DatabaseConnection", "metadata": {"name": name},
                "spec": spec}  # fmt: skip
        self.custom.create_namespaced_custom_object(GROUP, VERSION, self.namespace, PLURAL, body)

    def get(self, name: str) -> dict[str, Any]:
        obj: dict[str, Any] = self.custom.get_namespaced_custom_object(
            GROUP, VERSION, self.namespace, PLURAL, name
        )
        return obj

    def ready(self, name: str) -> dict[str, Any] | None:
        """The Ready condition once the operator has reported on the current generation."""
        obj = self.get(name)
        status = obj.get("status") or {}
        if status.get("observedGeneration") != obj["metadata"]["generation"]:
            return None
        return next((c for c in status.get("conditions", []) if c["type"] == "Ready"), None)

    def wait_ready(self, name: str, status: str, reason: str | None = None) -> dict[str, Any]:
        def check() -> dict[str, Any] | None:
            ready = self.ready(name)
            if ready and ready["status"] == status and (reason is None or ready["reason"] == reason):
                return ready
            return None

        try:
            return wait_for(check, WAIT, f"{name} Ready={status} {reason or ''}")
        except TimeoutError:
            raise AssertionError(f"{name}: wanted Ready={status} {reason}, have {self.ready(name)}") from None

    def events(self, name: str) -> list[client.CoreV1Event]:
        items = self.core.list_namespaced_event(
            self.namespace, field_selector=f"involvedObject.name={name}"
        ).items
        return sorted(items, key=lambda e: (e.first_timestamp or e.event_time, e.metadata.creation_timestamp))

    def assert_no_secret_leaked(self, operator: OperatorProcess) -> None:
        """No secret value in any status, event or operator log line (the issue's acceptance scan)."""
        statuses = [str(o.get("status")) for o in self.custom.list_namespaced_custom_object(
            GROUP, VERSION, self.namespace, PLURAL)["items"]]  # fmt: skip
        events = [f"{e.reason} {e.message}" for e in self.core.list_namespaced_event(self.namespace).items]
        haystacks = {
            "status": "\n".join(statuses),
            "events": "\n".join(events),
            "operator log": operator.log_text(),
        }
        assert operator.log_text(), "the operator wrote no log at all"
        for where, text in haystacks.items():
            for value in self.secret_values:
                assert value not in text, f"a secret value appears in the {where}"


@pytest.fixture
def cluster(kube_api: client.ApiClient, namespace: str, operator: OperatorProcess) -> Iterator[Cluster]:
    view = Cluster(kube_api, namespace)
    yield view
    view.assert_no_secret_leaked(operator)


def db_spec(db: Database, secret: str, **extra: Any) -> dict[str, Any]:
    return {"engine": db.engine, "host": db.host, "port": db.port, "database": db.name,
            "credentialsSecretRef": {"name": secret}, **extra}  # fmt: skip


def creds(db: Database, password: str | None = None) -> dict[str, str]:
    return {"username": db.user, "password": password or db.password}


def test_postgresql_and_mariadb_become_ready_with_their_versions(
    cluster: Cluster,
    pg_db: Database,
    mariadb_db: Database,
    pg_server: PostgresServer,
    mariadb_server: MariaDBServer,
) -> None:
    cluster.secret("pg-creds", creds(pg_db))
    cluster.secret("maria-creds", creds(mariadb_db))
    cluster.connection("pg", db_spec(pg_db, "pg-creds"))
    cluster.connection("maria", db_spec(mariadb_db, "maria-creds"))

    assert cluster.wait_ready("pg", "True", "Connected")
    assert cluster.wait_ready("maria", "True", "Connected")

    with pg_server.admin() as conn:
        pg_version = conn.execute("SHOW server_version").fetchone()
    with mariadb_server.admin() as conn, conn.cursor() as cur:
        cur.execute("SELECT VERSION()")
        maria_version = cur.fetchone()
    pg_status, maria_status = cluster.get("pg")["status"], cluster.get("maria")["status"]
    assert pg_version is not None and pg_status["serverVersion"] == pg_version[0]
    assert maria_version is not None and maria_status["serverVersion"] == maria_version[0]
    for status in (pg_status, maria_status):
        assert status["consecutiveFailures"] == 0
        assert status["latencyMs"] > 0 and status["lastCheckTime"]
        assert {c["type"]: c["status"] for c in status["conditions"]}["Reconciling"] == "False"
    assert [e.reason for e in cluster.events("pg")] == ["Connected"]


def test_wrong_password_then_fixing_the_secret_heals_without_touching_the_connection(
    cluster: Cluster, pg_db: Database
) -> None:
    cluster.secret("app-creds", creds(pg_db, password=f"wrong-{uuid.uuid4().hex}"))
    cluster.connection("app", db_spec(pg_db, "app-creds"))
    failed = cluster.wait_ready("app", "False", "AuthenticationFailed")
    assert 'Secret "app-creds"' in failed["message"]
    before = cluster.get("app")["metadata"]

    cluster.secret("app-creds", creds(pg_db))
    cluster.wait_ready("app", "True", "Connected")

    after = cluster.get("app")
    assert after["metadata"]["generation"] == before["generation"]
    assert after["status"]["consecutiveFailures"] == 0
    # Events on transitions only: down once, up once, however many probes ran.
    assert [(e.type, e.reason) for e in cluster.events("app")] == [
        ("Warning", "AuthenticationFailed"),
        ("Normal", "Connected"),
    ]


def test_each_failure_has_its_own_reason_and_an_actionable_message(cluster: Cluster, pg_db: Database) -> None:
    cluster.secret("no-password", {"username": pg_db.user})
    cluster.secret("good", creds(pg_db))
    port = free_port()
    cluster.connection("missing-secret", db_spec(pg_db, "not-there"))
    cluster.connection("missing-key", db_spec(pg_db, "no-password"))
    cluster.connection("closed-port", {**db_spec(pg_db, "good"), "port": port})
    cluster.connection("tls-required", db_spec(pg_db, "good", tls={"mode": "require"}))

    message = cluster.wait_ready("missing-secret", "False", "SecretNotFound")["message"]
    assert 'Secret "not-there" not found' in message
    message = cluster.wait_ready("missing-key", "False", "SecretKeyMissing")["message"]
    assert 'Secret "no-password" has no key "password"' in message
    message = cluster.wait_ready("closed-port", "False", "Unreachable")["message"]
    assert f"127.0.0.1:{port}" in message and "spec.port" in message
    message = cluster.wait_ready("tls-required", "False", "TLSError")["message"]
    assert "does not offer TLS" in message and "tls.mode" in message
    for name in ("missing-secret", "missing-key", "closed-port", "tls-required"):
        conditions = {c["type"]: c for c in cluster.get(name)["status"]["conditions"]}
        assert "Stalled" not in conditions  # each heals once the world changes

    # Creating the missing Secret is a Secret change too: the connection re-probes by itself.
    cluster.secret("not-there", creds(pg_db))
    cluster.wait_ready("missing-secret", "True", "Connected")


def test_tls_verify_full_with_the_right_and_a_wrong_ca(
    cluster: Cluster, pg_tls_server: PostgresServer, pki: Pki
) -> None:
    db = pg_tls_server.create_database()
    cluster.secret("creds", creds(db))
    cluster.secret("db-ca", {"ca.crt": pki.ca_pem})
    cluster.secret("other-ca", {"ca.crt": make_pki(ca_name="not-the-server-ca").ca_pem})
    tls = {"mode": "verify-full", "caSecretRef": {"name": "db-ca"}}
    cluster.connection("tls-ok", db_spec(db, "creds", tls=tls))
    cluster.connection("tls-wrong-ca", db_spec(db, "creds", tls={**tls, "caSecretRef": {"name": "other-ca"}}))

    cluster.wait_ready("tls-ok", "True", "Connected")
    message = cluster.wait_ready("tls-wrong-ca", "False", "TLSError")["message"]
    assert "tls.caSecretRef" in message
