"""The worker's Role: read its own inputs, write its own progress, never touch Secrets."""

from __future__ import annotations

from ferry.kube.worker_rbac import (
    WorkerIdentity,
    build_worker_rbac,
    build_worker_role,
    build_worker_role_binding,
    build_worker_service_account,
)

IDENTITY = WorkerIdentity("team-a", "orders", "uid-1", ("src", "dst"))


def allowed(role: dict[str, object]) -> set[tuple[str, str, str, str]]:
    rules = role["rules"]
    assert isinstance(rules, list)
    return {
        (group, resource, verb, name)
        for rule in rules
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
        for name in rule["resourceNames"]
    }


def test_role_allows_exactly_reading_its_own_inputs_and_patching_its_own_status() -> None:
    assert allowed(build_worker_role(IDENTITY)) == {
        ("ferry.dev", "migrations", "get", "orders"),
        ("ferry.dev", "databaseconnections", "get", "src"),
        ("ferry.dev", "databaseconnections", "get", "dst"),
        ("ferry.dev", "migrations/status", "get", "orders"),
        ("ferry.dev", "migrations/status", "patch", "orders"),
    }


def test_every_rule_names_its_objects_and_none_reaches_secrets() -> None:
    role = build_worker_role(IDENTITY)
    for rule in role["rules"]:
        assert rule["resourceNames"], rule
    for group, resource, verb, _ in allowed(role):
        assert resource != "secrets"
        assert "*" not in (group, resource, verb)


def test_the_objects_are_the_migrations_own_and_collected_with_it() -> None:
    for obj in build_worker_rbac(IDENTITY):
        meta = obj["metadata"]
        assert meta["name"] == "ferry-worker-orders" and meta["namespace"] == "team-a"
        [owner] = meta["ownerReferences"]
        assert (owner["kind"], owner["name"], owner["uid"]) == ("Migration", "orders", "uid-1")
        assert owner["blockOwnerDeletion"] is False  # no migrations/finalizers permission needed


def test_binding_ties_the_role_to_the_migrations_worker_account_and_a_named_one() -> None:
    binding = build_worker_role_binding(IDENTITY)
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                  "name": "ferry-worker-orders"}  # fmt: skip
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "ferry-worker-orders", "namespace": "team-a"}
    ]
    own = WorkerIdentity("team-a", "orders", "uid-1", ("src", "dst"), user_service_account="etl")
    assert [s["name"] for s in build_worker_role_binding(own)["subjects"]] == ["ferry-worker-orders", "etl"]
    assert build_worker_service_account(own)["metadata"]["name"] == "ferry-worker-orders"


def test_objects_come_in_apply_order() -> None:
    assert [o["kind"] for o in build_worker_rbac(IDENTITY)] == ["ServiceAccount", "Role", "RoleBinding"]
