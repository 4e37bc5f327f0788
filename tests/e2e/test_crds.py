"""The committed CRDs on a real kube-apiserver: they install, default, and refuse bad objects.

Validation happens in the apiserver (OpenAPI schema and CEL rules), so `kubectl apply`, Argo CD
and Flux users see a 422 naming the field before the operator ever runs.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from harness.kube import has_condition

GROUP, VERSION = "ferry.dev", "v1alpha1"
EXPECTED_CRDS = ("databaseconnections.ferry.dev", "migrations.ferry.dev", "projects.ferry.dev")


def connection(name: str, **spec: Any) -> dict[str, Any]:
    base = {
        "engine": "postgresql",
        "host": "pg",
        "port": 5432,
        "database": "shop",
        "credentialsSecretRef": {"name": "creds"},
    }
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "DatabaseConnection",
        "metadata": {"name": name},
        "spec": {**base, **spec},
    }


def migration(name: str, **spec: Any) -> dict[str, Any]:
    base = {"source": {"connectionRef": {"name": "legacy"}}, "target": {"connectionRef": {"name": "modern"}}}
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "Migration",
        "metadata": {"name": name},
        "spec": {**base, **spec},
    }


def project(name: str, **spec: Any) -> dict[str, Any]:
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Project", "metadata": {"name": name}, "spec": spec}


def rejection(call: Callable[[], object]) -> str:
    """Run an API call that must be refused as invalid; return the apiserver's message."""
    with pytest.raises(ApiException) as caught:
        call()
    assert caught.value.status == 422, caught.value.body
    return str(json.loads(caught.value.body)["message"])


@pytest.fixture
def objects(kube_api: client.ApiClient, crds: list[str]) -> client.CustomObjectsApi:
    return client.CustomObjectsApi(kube_api)


@pytest.mark.parametrize("name", EXPECTED_CRDS)
def test_crd_is_established(kube_api: client.ApiClient, crds: list[str], name: str) -> None:
    assert name in crds
    crd = client.ApiextensionsV1Api(kube_api).read_custom_resource_definition(name)
    assert has_condition(crd, "Established")
    assert has_condition(crd, "NamesAccepted")


def test_valid_connection_is_stored_with_defaults(objects: client.CustomObjectsApi, namespace: str) -> None:
    objects.create_namespaced_custom_object(
        GROUP,
        VERSION,
        namespace,
        "databaseconnections",
        connection("modern", tls={"mode": "require"}, options={}),
    )
    stored = objects.get_namespaced_custom_object(GROUP, VERSION, namespace, "databaseconnections", "modern")
    spec = stored["spec"]
    assert spec["engine"] == "postgresql" and spec["tls"]["mode"] == "require"
    assert spec["credentialsSecretRef"] == {
        "name": "creds",
        "usernameKey": "username",
        "passwordKey": "password",
    }
    assert spec["options"]["connectTimeoutSeconds"] == 10
    assert spec["readOnly"] is False


def test_valid_migration_is_stored_with_defaults(objects: client.CustomObjectsApi, namespace: str) -> None:
    body = migration("shop-to-pg", tables={"exclude": ["tmp_*"]})
    objects.create_namespaced_custom_object(GROUP, VERSION, namespace, "migrations", body)
    stored = objects.get_namespaced_custom_object(GROUP, VERSION, namespace, "migrations", "shop-to-pg")
    spec = stored["spec"]
    # No default for what a Project may default (copy.batchSize, copy.parallelism, validation.*,
    # job.resources): an omitted field must stay omitted so the operator can tell it from a set
    # one; the values that run are in status.effective.
    assert spec["copy"] == {
        "onConflict": "error",
        "truncateTarget": False,
        "splitThresholdRows": 2000000,
        "zeroDates": "null",
    }
    assert spec["validation"] == {"repair": False}  # not one a Project defaults
    assert "resources" not in spec["job"] and spec["job"]["backoffLimit"] == 6
    assert spec["tables"]["exclude"] == ["tmp_*"]
    assert spec["suspend"] is False


def test_a_migration_of_several_schemas_is_stored(objects: client.CustomObjectsApi, namespace: str) -> None:
    body = migration(
        "two-schemas",
        source={"connectionRef": {"name": "legacy"}, "schemas": ["sales", "billing"]},
        target={"connectionRef": {"name": "modern"}, "schemaMapping": {"billing": "billing_v2"}},
        tables={"overrides": [{"name": "sales.orders", "where": "id > 0"}]},
    )
    objects.create_namespaced_custom_object(GROUP, VERSION, namespace, "migrations", body)
    stored = objects.get_namespaced_custom_object(GROUP, VERSION, namespace, "migrations", "two-schemas")
    assert stored["spec"]["source"]["schemas"] == ["sales", "billing"]
    assert stored["spec"]["target"]["schemaMapping"] == {"billing": "billing_v2"}


def test_valid_project_is_stored_with_defaults(objects: client.CustomObjectsApi, crds: list[str]) -> None:
    body = project(
        "team-a-proj",
        namespace="team-a",
        members=[{"kind": "Group", "name": "team-a", "role": "editor"}],
        policy={},
    )
    objects.create_cluster_custom_object(GROUP, VERSION, "projects", body)
    try:
        stored = objects.get_cluster_custom_object(GROUP, VERSION, "projects", "team-a-proj")
        assert stored["spec"]["members"] == [{"kind": "Group", "name": "team-a", "role": "editor"}]
        assert stored["spec"]["policy"]["maxParallelism"] == 16
        assert stored["spec"]["policy"]["destructiveRequiresApproval"] is True
    finally:
        objects.delete_cluster_custom_object(GROUP, VERSION, "projects", "team-a-proj")


@pytest.mark.parametrize(
    ("spec", "field", "words"),
    [
        (
            {"urlSecretRef": {"name": "dsn"}},
            "spec",
            "exactly one of credentialsSecretRef or urlSecretRef",
        ),
        ({"engine": "oracle"}, "spec.engine", "Unsupported value"),
        ({"port": 70000}, "spec.port", "65535"),
        ({"tls": {"mode": "verify-full"}}, "spec.tls.caSecretRef", "caSecretRef is required"),
    ],
    ids=["both-credential-refs", "bad-engine", "port-out-of-range", "verify-full-without-ca"],
)
def test_invalid_connection_is_rejected(
    objects: client.CustomObjectsApi, namespace: str, spec: dict[str, Any], field: str, words: str
) -> None:
    message = rejection(
        lambda: objects.create_namespaced_custom_object(
            GROUP, VERSION, namespace, "databaseconnections", connection("bad", **spec)
        )
    )
    assert f"{field}:" in message and words in message, message


def test_a_sqlite_connection_is_refused_in_the_cluster_and_points_to_ferry_run(
    objects: client.CustomObjectsApi, namespace: str
) -> None:
    body = connection("file")
    body["spec"] = {"engine": "sqlite", "database": "/data/chinook.db"}
    message = rejection(
        lambda: objects.create_namespaced_custom_object(
            GROUP, VERSION, namespace, "databaseconnections", body
        )
    )
    assert "spec.engine:" in message and "sqlite is for ferry run (local mode)" in message, message


@pytest.mark.parametrize(
    ("spec", "field", "words"),
    [
        (
            {"target": {"connectionRef": {"name": "legacy"}}},
            "spec.target.connectionRef.name",
            "source and target must be different",
        ),
        ({"copy": {"parallelism": 0}}, "spec.copy.parallelism", "greater than or equal to 1"),
        (
            {
                "tables": {
                    "overrides": [{"name": "customers", "transforms": [{"column": "email", "type": "hash"}]}]
                }
            },
            "spec.tables.overrides[0].transforms[0].keySecretRef",
            "keySecretRef is required",
        ),
        ({"copy": {"onConflict": "replace"}}, "spec.copy.onConflict", "Unsupported value"),
        (
            {"source": {"connectionRef": {"name": "legacy"}, "schema": "a", "schemas": ["a", "b"]}},
            "spec.source.schemas",
            "use either schema or schemas",
        ),
        (
            {
                "source": {"connectionRef": {"name": "legacy"}, "schemas": ["a", "b"]},
                "target": {"connectionRef": {"name": "modern"}, "schema": "c"},
            },
            "spec.target.schema",
            "rename schemas with target.schemaMapping",
        ),
        (
            {
                "source": {"connectionRef": {"name": "legacy"}, "schemas": ["a", "b"]},
                "target": {"connectionRef": {"name": "modern"}, "schemaMapping": {"x": "y"}},
            },
            "spec.target.schemaMapping",
            "must be listed in source.schemas",
        ),
        (
            {"job": {"nodeSelector": {"pool": "db-hosts"}}},
            "spec.job.nodeSelector",
            "worker pods are placed by the Project (spec.defaults.jobPlacement)",
        ),
        (
            {"job": {"tolerations": [{"operator": "Exists"}]}},
            "spec.job.tolerations",
            "worker pods are placed by the Project (spec.defaults.jobPlacement)",
        ),
    ],
    ids=[
        "source-is-target",
        "parallelism-zero",
        "hash-without-key",
        "bad-on-conflict",
        "schema-and-schemas",
        "schemas-and-target-schema",
        "mapping-of-unlisted-schema",
        "node-selector",
        "tolerations",
    ],
)
def test_invalid_migration_is_rejected(
    objects: client.CustomObjectsApi, namespace: str, spec: dict[str, Any], field: str, words: str
) -> None:
    message = rejection(
        lambda: objects.create_namespaced_custom_object(
            GROUP, VERSION, namespace, "migrations", migration("bad", **spec)
        )
    )
    assert f"{field}:" in message and words in message, message


def test_migration_source_cannot_change(objects: client.CustomObjectsApi, namespace: str) -> None:
    objects.create_namespaced_custom_object(GROUP, VERSION, namespace, "migrations", migration("m"))
    change = {"spec": {"source": {"connectionRef": {"name": "other"}}}}
    message = rejection(
        lambda: objects.patch_namespaced_custom_object(GROUP, VERSION, namespace, "migrations", "m", change)
    )
    assert "source and target are immutable" in message, message
    # Everything else stays editable.
    objects.patch_namespaced_custom_object(
        GROUP, VERSION, namespace, "migrations", "m", {"spec": {"suspend": True}}
    )


def test_project_rejects_namespace_on_non_service_account_member(objects: client.CustomObjectsApi) -> None:
    body = project(
        "bad-member", members=[{"kind": "User", "name": "alice", "namespace": "x", "role": "viewer"}]
    )
    message = rejection(lambda: objects.create_cluster_custom_object(GROUP, VERSION, "projects", body))
    assert "spec.members[0].namespace:" in message, message


def test_project_namespace_cannot_change(objects: client.CustomObjectsApi) -> None:
    objects.create_cluster_custom_object(GROUP, VERSION, "projects", project("fixed-ns", namespace="team-b"))
    try:
        change = {"spec": {"namespace": "team-c"}}
        message = rejection(
            lambda: objects.patch_cluster_custom_object(GROUP, VERSION, "projects", "fixed-ns", change)
        )
        assert "spec.namespace:" in message and "immutable" in message, message
    finally:
        objects.delete_cluster_custom_object(GROUP, VERSION, "projects", "fixed-ns")
