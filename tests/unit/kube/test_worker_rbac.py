"""The worker's Role: read its inputs, write progress, never touch Secrets."""

from __future__ import annotations

from ferry.kube.worker_rbac import (
    WORKER_NAME,
    build_worker_rbac,
    build_worker_role,
    build_worker_role_binding,
    build_worker_service_account,
)


def allowed(role: dict[str, object]) -> set[tuple[str, str, str]]:
    rules = role["rules"]
    assert isinstance(rules, list)
    return {
        (group, resource, verb)
        for rule in rules
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }


def test_role_allows_exactly_reading_inputs_and_patching_status() -> None:
    assert allowed(build_worker_role("team-a")) == {
        ("ferry.dev", "migrations", "get"),
        ("ferry.dev", "databaseconnections", "get"),
        ("ferry.dev", "migrations/status", "get"),
        ("ferry.dev", "migrations/status", "patch"),
    }


def test_role_has_no_secret_access_and_no_wildcards() -> None:
    role = build_worker_role("team-a")
    for group, resource, verb in allowed(role):
        assert resource != "secrets"
        assert "*" not in (group, resource, verb)
    for rule in role["rules"]:
        assert "resourceNames" not in rule and "nonResourceURLs" not in rule


def test_binding_ties_the_role_to_the_worker_service_account_in_its_namespace() -> None:
    account = build_worker_service_account("team-a")
    binding = build_worker_role_binding("team-a")
    assert account["metadata"] == {
        "name": WORKER_NAME,
        "namespace": "team-a",
        "labels": account["metadata"]["labels"],
    }
    assert binding["metadata"]["namespace"] == "team-a"
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": WORKER_NAME,
    }
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": WORKER_NAME, "namespace": "team-a"}]


def test_objects_come_in_apply_order() -> None:
    assert [o["kind"] for o in build_worker_rbac("ns")] == ["ServiceAccount", "Role", "RoleBinding"]
