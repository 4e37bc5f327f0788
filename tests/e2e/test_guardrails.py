"""manifests/policies/ferry-guardrails.yaml on a real apiserver: approvals and worker pinning.

The shipped bindings match every namespace; here each policy is bound to the test namespace
only, so other tests of the session are not affected.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from harness.kube import wait_for

REPO = Path(__file__).resolve().parents[2]
POLICIES = REPO / "manifests" / "policies" / "ferry-guardrails.yaml"
GROUP, VERSION, PLURAL = "ferry.dev", "v1alpha1", "migrations"


@pytest.fixture
def guarded(kube_api: client.ApiClient, crds: list[str], namespace: str) -> Iterator[str]:
    admission = client.AdmissionregistrationV1Api(kube_api)
    bindings = []
    for doc in yaml.safe_load_all(POLICIES.read_text()):
        if doc["kind"] == "ValidatingAdmissionPolicy":
            try:
                admission.create_validating_admission_policy(doc)
            except ApiException as error:
                if error.status != 409:
                    raise
        else:
            name = f"{doc['metadata']['name']}-{namespace}"
            doc["metadata"]["name"] = name
            doc["spec"]["matchResources"] = {
                "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}}
            }
            admission.create_validating_admission_policy_binding(doc)
            bindings.append(name)
    yield namespace
    for name in bindings:
        admission.delete_validating_admission_policy_binding(name)


def migration(name: str, **spec: Any) -> dict[str, Any]:
    base = {"source": {"connectionRef": {"name": "a"}}, "target": {"connectionRef": {"name": "b"}}}
    return {
        "apiVersion": f"{GROUP}/{VERSION}",
        "kind": "Migration",
        "metadata": {"name": name},
        "spec": {**base, **spec},
    }


def refusal(call: Any) -> str | None:
    try:
        call()
    except ApiException as error:
        if error.status in (403, 422):
            return str(json.loads(error.body)["message"])
        raise
    return None


def test_worker_image_and_service_account_are_pinned(kube_api: client.ApiClient, guarded: str) -> None:
    custom = client.CustomObjectsApi(kube_api)

    def create(name: str, **job: Any) -> str | None:
        body = migration(name, job=job) if job else migration(name)
        return refusal(lambda: custom.create_namespaced_custom_object(GROUP, VERSION, guarded, PLURAL, body))

    tries = itertools.count()
    # A new name each try: until the policy is active the create may pass, and a second create
    # of the same name would fail with AlreadyExists instead of the policy's refusal.
    message = wait_for(
        lambda: create(f"evil-{next(tries)}", image="evil.example/x:1"),
        timeout=30,
        what="the policy to apply",
    )
    assert "spec.job.image" in message
    assert "serviceAccountName" in (create("borrow", serviceAccountName="default") or "")
    assert create("plain") is None
    assert create("pinned", image="ghcr.io/ferry-dev/ferry:0.2.0") is None


def test_only_approvers_may_approve(kube_api: client.ApiClient, guarded: str) -> None:
    custom = client.CustomObjectsApi(kube_api)
    custom.create_namespaced_custom_object(GROUP, VERSION, guarded, PLURAL, migration("m"))

    attempts = itertools.count()

    def approve() -> str | None:
        # A new hash each try: until the policy is active an approval may pass, and re-setting
        # the same hash is (rightly) not an approval.
        body = {"spec": {"approval": {"planHash": f"abcdef{next(attempts):04d}"}}}
        return refusal(
            lambda: custom.patch_namespaced_custom_object(GROUP, VERSION, guarded, PLURAL, "m", body)
        )

    message = wait_for(approve, timeout=30, what="the policy to apply")
    assert "ferry-approvers" in message
    # Other spec changes (suspend, kopf's finalizer) still pass.
    custom.patch_namespaced_custom_object(GROUP, VERSION, guarded, PLURAL, "m", {"spec": {"suspend": True}})
    # A member of ferry-approvers (with rights on the namespace) may approve.
    client.RbacAuthorizationV1Api(kube_api).create_namespaced_role_binding(
        guarded,
        {
            "metadata": {"name": "approvers"},
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "ClusterRole",
                "name": "cluster-admin",
            },
            "subjects": [
                {"kind": "Group", "name": "ferry-approvers", "apiGroup": "rbac.authorization.k8s.io"}
            ],
        },
    )
    approver = client.ApiClient(kube_api.configuration)
    approver.set_default_header("Impersonate-User", "dana")
    approver.set_default_header("Impersonate-Group", "ferry-approvers")
    with approver:
        client.CustomObjectsApi(approver).patch_namespaced_custom_object(
            GROUP, VERSION, guarded, PLURAL, "m", {"spec": {"approval": {"planHash": "abcdef0123"}}}
        )
