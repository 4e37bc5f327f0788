"""Pure builders of a Project's namespace, RoleBindings and ResourceQuota."""

from __future__ import annotations

from ferry.api import conditions as c
from ferry.api.project import ProjectSpec
from ferry.kube.project_objects import (
    build_namespace,
    build_resource_quota,
    build_role_bindings,
    namespace_refusal,
    project_namespace,
)


def _spec(**fields: object) -> ProjectSpec:
    return ProjectSpec.model_validate(fields)


def test_namespace_defaults_to_the_project_name_and_has_no_owner() -> None:
    assert project_namespace("shop", _spec()) == "shop"
    assert project_namespace("shop", _spec(namespace="shop-data")) == "shop-data"
    namespace = build_namespace("shop", "shop-data")
    assert namespace["metadata"]["labels"]["ferry.dev/project"] == "shop"
    assert "ownerReferences" not in namespace["metadata"]  # deleting a Project never deletes data


def test_one_binding_per_role_with_members() -> None:
    spec = _spec(
        members=[
            {"kind": "User", "name": "alice", "role": "editor"},
            {"kind": "Group", "name": "dba", "role": "editor"},
            {"kind": "ServiceAccount", "name": "ci", "namespace": "tools", "role": "viewer"},
            {"kind": "ServiceAccount", "name": "bot", "role": "viewer"},
        ]
    )
    bindings = {b["metadata"]["name"]: b for b in build_role_bindings("shop", "uid-1", "shop", spec)}
    assert set(bindings) == {"ferry-editor", "ferry-viewer"}
    assert bindings["ferry-editor"]["roleRef"]["name"] == "ferry-editor"
    assert bindings["ferry-editor"]["subjects"] == [
        {"kind": "User", "name": "alice", "apiGroup": "rbac.authorization.k8s.io"},
        {"kind": "Group", "name": "dba", "apiGroup": "rbac.authorization.k8s.io"},
    ]
    assert bindings["ferry-viewer"]["subjects"] == [
        {"kind": "ServiceAccount", "name": "ci", "namespace": "tools"},
        {"kind": "ServiceAccount", "name": "bot", "namespace": "shop"},
    ]
    owner = bindings["ferry-viewer"]["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["uid"], owner["controller"]) == ("Project", "uid-1", True)


def test_quota_only_for_the_limits_given() -> None:
    assert build_resource_quota("shop", "u", "shop", _spec()) is None
    quota = build_resource_quota("shop", "u", "shop", _spec(quota={"maxJobs": 4, "memory": "8Gi"}))
    assert quota is not None
    assert quota["spec"]["hard"] == {"count/jobs.batch": "4", "requests.memory": "8Gi"}


def test_a_project_creates_or_keeps_its_own_namespace() -> None:
    assert namespace_refusal("team-a", "team-a", None) is None  # absent: the Project creates it
    assert namespace_refusal("team-a", "team-a", "team-a") is None  # labelled for this Project


def test_a_project_never_adopts_an_unlabelled_namespace_and_says_how_to_hand_it_over() -> None:
    refusal = namespace_refusal("team-a", "payments", "")
    assert refusal is not None
    reason, message = refusal
    assert reason == c.NAMESPACE_NOT_FERRYS
    assert "was not created by Ferry" in message
    assert "kubectl label namespace payments ferry.dev/project=team-a" in message


def test_a_project_never_takes_another_projects_or_the_clusters_namespaces() -> None:
    assert namespace_refusal("team-a", "team-b", "team-b") == (
        c.NAMESPACE_OWNED_ELSEWHERE,
        'namespace "team-b" belongs to Project "team-b"',
    )
    for reserved in ("kube-system", "kube-public", "default", "kube-anything"):
        refusal = namespace_refusal("team-a", reserved, "team-a")  # even when labelled
        assert refusal is not None and refusal[0] == c.NAMESPACE_NOT_FERRYS, reserved
