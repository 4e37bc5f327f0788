"""A Project's connection rules as the operator applies them (ferry.services.connection_policy).

The matching cases live in connection_policy_cases.py: the e2e tier runs the same ones through
the shipped ValidatingAdmissionPolicy, so the two enforcers agree.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from ferry.api import conditions as c
from ferry.api.connection import DatabaseConnectionSpec
from ferry.api.project import ConnectionRules, ProjectPolicy, ProjectSpec
from ferry.db.credentials import Credentials
from ferry.services.connection_policy import (
    ROUTING_PARAMS,
    host_allowed,
    port_allowed,
    refused_destination,
    refused_secrets,
    secret_allowed,
)
from ferry.services.policy import Governance
from unit.services.connection_policy_cases import (
    ALLOWED_HOSTS,
    ALLOWED_PORTS,
    ALLOWED_SECRETS,
    HOST_CASES,
    PORT_CASES,
    SECRET_CASES,
)

POLICY_FILE = Path(__file__).resolve().parents[3] / "manifests" / "policies" / "ferry-connection-policy.yaml"
CREDS = Credentials(username="app", password="pw")


def governance(**rules: Any) -> Governance:
    return Governance("team-a", ProjectPolicy(connections=ConnectionRules.model_validate(rules)))


PINNED = governance(allowedHosts=ALLOWED_HOSTS, allowedPorts=ALLOWED_PORTS, allowedSecrets=ALLOWED_SECRETS)


def connection(**spec: Any) -> DatabaseConnectionSpec:
    base = {"engine": "postgresql", "host": "db.example.com", "database": "shop",
            "credentialsSecretRef": {"name": "app-creds"}}  # fmt: skip
    return DatabaseConnectionSpec.model_validate({**base, **spec})


@pytest.mark.parametrize(("host", "allowed", "why"), HOST_CASES, ids=[case[0] for case in HOST_CASES])
def test_host_matching(host: str, allowed: bool, why: str) -> None:
    assert host_allowed(host, ALLOWED_HOSTS) is allowed, why


@pytest.mark.parametrize(("name", "allowed"), SECRET_CASES)
def test_secret_globs(name: str, allowed: bool) -> None:
    assert secret_allowed(name, ALLOWED_SECRETS) is allowed


@pytest.mark.parametrize(("port", "allowed"), PORT_CASES)
def test_ports(port: int, allowed: bool) -> None:
    assert port_allowed(port, ALLOWED_PORTS) is allowed


def test_empty_lists_allow_everything() -> None:
    assert host_allowed("anything.example", []) and host_allowed("a,b", [])
    assert port_allowed(1, []) and secret_allowed("any", [])
    unrestricted = Governance(None)
    spec = connection(host="evil.example", port=1, options={"params": {"hostaddr": "6.6.6.6"}})
    assert refused_secrets(spec, unrestricted) is None
    assert refused_destination(spec, CREDS, unrestricted) is None


def test_the_rules_parse_from_a_project_and_default_to_empty() -> None:
    assert ProjectSpec.model_validate({}).policy.connections == ConnectionRules()
    spec = ProjectSpec.model_validate({"policy": {"connections": {"allowedHosts": ["10.0.0.0/8", "*.svc"]}}})
    assert spec.policy.connections.allowed_hosts == ["10.0.0.0/8", "*.svc"]


@pytest.mark.parametrize("entry", ["*", "a b", "evil.com,db", "*.*.example", "http://x", "db.example.com/"])
def test_malformed_host_entries_are_refused_by_the_schema(entry: str) -> None:
    with pytest.raises(ValueError, match=r"allowedHosts\.0"):
        ConnectionRules.model_validate({"allowedHosts": [entry]})


def test_a_secret_not_allowed_is_refused_naming_the_field() -> None:
    spec = connection(tls={"mode": "verify-full", "caSecretRef": {"name": "root-ca"}})
    refusal = refused_secrets(spec, PINNED)
    assert refusal is not None and refusal.reason == c.SECRET_NOT_ALLOWED
    assert refusal.message.startswith(
        'spec.tls.caSecretRef.name: Secret "root-ca" is not allowed by Project "team-a"'
    )
    assert refused_secrets(connection(), PINNED) is None


def test_a_host_not_allowed_is_refused_naming_the_field() -> None:
    refusal = refused_destination(connection(host="evil.example"), CREDS, PINNED)
    assert refusal is not None and refusal.reason == c.HOST_NOT_ALLOWED
    assert refusal.message.startswith('spec.host: host "evil.example" is not allowed by Project "team-a"')
    assert "no connection was made" in refusal.message
    listed = refused_destination(connection(host="db.example.com,evil.example"), CREDS, PINNED)
    assert listed is not None and "is not a single host name or IP address" in listed.message


def test_ports_count_the_engine_default() -> None:
    assert refused_destination(connection(port=6432), CREDS, PINNED) is None
    assert refused_destination(connection(), CREDS, PINNED) is None  # 5432 by default
    mysql = refused_destination(connection(engine="mysql"), CREDS, PINNED)
    assert mysql is not None and mysql.message.startswith(
        "spec.port (default 3306): port 3306 is not allowed"
    )


@pytest.mark.parametrize("key", sorted(ROUTING_PARAMS))
def test_routing_parameters_are_refused_while_hosts_are_pinned(key: str) -> None:
    spec = connection(options={"params": {key: "6.6.6.6"}})
    refusal = refused_destination(spec, CREDS, PINNED)
    assert refusal is not None and refusal.reason == c.HOST_NOT_ALLOWED
    assert refusal.message.startswith(f'spec.options.params: parameter "{key}" chooses where to connect')
    assert (
        refused_destination(connection(options={"params": {"target_session_attrs": "any"}}), CREDS, PINNED)
        is None
    )


def test_the_host_of_a_url_in_a_secret_is_checked() -> None:
    spec = connection(host=None, credentialsSecretRef=None, urlSecretRef={"name": "app-url"})
    allowed = Credentials(url="postgresql://u:pw@10.1.4.4:6432/x")
    assert refused_destination(spec, allowed, PINNED) is None
    refusal = refused_destination(spec, Credentials(url="postgresql://u:pw@evil.example:5432/x"), PINNED)
    assert refusal is not None and refusal.reason == c.HOST_NOT_ALLOWED
    assert refusal.message.startswith(
        'the URL in Secret "app-url" key "url" (spec.urlSecretRef): host "evil.example"'
    )
    port = refused_destination(spec, Credentials(url="postgresql://u:pw@10.1.4.4:5433/x"), PINNED)
    assert port is not None and "port 5433 is not allowed" in port.message
    query = refused_destination(
        spec, Credentials(url="postgresql://u:pw@10.1.4.4/x?hostaddr=6.6.6.6"), PINNED
    )
    assert query is not None and query.message.startswith('the URL in Secret "app-url"')
    # spec.host overrides the URL's host, and is what is checked then.
    overridden = connection(
        host="db.example.com", credentialsSecretRef=None, urlSecretRef={"name": "app-url"}
    )
    assert (
        refused_destination(overridden, Credentials(url="postgresql://u:pw@evil.example/x"), PINNED) is None
    )


def test_sqlite_has_no_destination_and_an_unparseable_url_is_left_to_the_probe() -> None:
    sqlite = DatabaseConnectionSpec.model_validate({"engine": "sqlite", "database": "/data/x.db"})
    assert refused_destination(sqlite, Credentials(), PINNED) is None
    spec = connection(host=None, credentialsSecretRef=None, urlSecretRef={"name": "app-url"})
    assert refused_destination(spec, Credentials(url="not a url"), PINNED) is None  # InvalidSpec, no network


def test_the_admission_policy_refuses_the_same_routing_parameters() -> None:
    policy = next(
        doc
        for doc in yaml.safe_load_all(POLICY_FILE.read_text())
        if doc["kind"] == "ValidatingAdmissionPolicy"
    )
    [expression] = [v["expression"] for v in policy["spec"]["variables"] if v["name"] == "routingParams"]
    assert set(re.findall(r"'([a-z_]+)'", expression)) == ROUTING_PARAMS
