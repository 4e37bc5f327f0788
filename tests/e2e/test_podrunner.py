"""The pod runner stands in for the kubelet: the real Job controller must see Jobs finish.

These tests pin what the operator's e2e tests rely on: Job completion and failure, Indexed Job
indexes, env from Secrets and the downward API, a ServiceAccount token the process can use,
and a deleted pod's process being killed. Also RBAC on the test users.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from harness.kube import wait_for, wait_for_job_condition
from harness.podrunner import PodRun, PodRunner


def job(command: list[str], backoff_limit: int = 0, **spec: Any) -> dict[str, Any]:
    name = f"job-{uuid.uuid4().hex[:6]}"
    container = {"name": "main", "image": "ferry:e2e", "command": command}
    container.update(spec.pop("container", {}))
    return {
        "metadata": {"name": name},
        "spec": {
            "backoffLimit": backoff_limit,
            "template": {"spec": {"restartPolicy": "Never", "containers": [container]}},
            **spec,
        },
    }


def run_job(api: client.ApiClient, namespace: str, body: dict[str, Any], timeout: float = 60) -> str:
    client.BatchV1Api(api).create_namespaced_job(namespace, body)
    return wait_for_job_condition(api, namespace, body["metadata"]["name"], timeout=timeout)


def runs_of(runner: PodRunner, namespace: str, job_name: str) -> list[PodRun]:
    return [run for run in runner.runs(namespace) if run.name.startswith(f"{job_name}-")]


def python(code: str) -> list[str]:
    return ["python", "-c", code]


def test_successful_job_completes(kube_api: client.ApiClient, namespace: str, pod_runner: PodRunner) -> None:
    body = job(python("print('hi')"))
    assert run_job(kube_api, namespace, body) == "Complete"
    (run,) = runs_of(pod_runner, namespace, body["metadata"]["name"])
    assert run.logs() == "hi\n"
    assert run.exit_code == 0


def test_failing_job_fails(kube_api: client.ApiClient, namespace: str, pod_runner: PodRunner) -> None:
    body = job(python("import sys; sys.exit(1)"))
    assert run_job(kube_api, namespace, body) == "Failed"
    (run,) = runs_of(pod_runner, namespace, body["metadata"]["name"])
    pod = client.CoreV1Api(kube_api).read_namespaced_pod(run.name, namespace)
    assert pod.status.phase == "Failed"
    assert pod.status.container_statuses[0].state.terminated.exit_code == 1


def test_indexed_job_sees_each_completion_index(
    kube_api: client.ApiClient, namespace: str, pod_runner: PodRunner
) -> None:
    body = job(
        python("import os; print('index', os.environ['JOB_COMPLETION_INDEX'])"),
        completions=2,
        parallelism=2,
        completionMode="Indexed",
    )
    assert run_job(kube_api, namespace, body) == "Complete"
    logs = sorted(run.logs() for run in runs_of(pod_runner, namespace, body["metadata"]["name"]))
    assert logs == ["index 0\n", "index 1\n"]


def test_env_comes_from_secrets_config_maps_and_the_downward_api(
    kube_api: client.ApiClient, namespace: str, pod_runner: PodRunner
) -> None:
    core = client.CoreV1Api(kube_api)
    core.create_namespaced_secret(namespace, {"metadata": {"name": "s"}, "stringData": {"password": "pw1"}})
    core.create_namespaced_config_map(namespace, {"metadata": {"name": "c"}, "data": {"LEVEL": "debug"}})
    env = [
        {"name": "PASSWORD", "valueFrom": {"secretKeyRef": {"name": "s", "key": "password"}}},
        {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
        {"name": "GREETING", "value": "in $(POD_NAMESPACE)"},
    ]
    code = "import os; print(os.environ['PASSWORD'], os.environ['LEVEL'], os.environ['GREETING'])"
    body = job(python(code), container={"env": env, "envFrom": [{"configMapRef": {"name": "c"}}]})
    assert run_job(kube_api, namespace, body) == "Complete"
    (run,) = runs_of(pod_runner, namespace, body["metadata"]["name"])
    assert run.logs() == f"pw1 debug in {namespace}\n"


def test_process_acts_as_the_pods_service_account(
    kube_api: client.ApiClient, namespace: str, pod_runner: PodRunner
) -> None:
    code = (
        "from kubernetes import client, config; config.load_kube_config();"
        "review = client.AuthenticationV1Api().create_self_subject_review({});"
        "print(review.status.user_info.username)"
    )
    body = job(python(code))
    assert run_job(kube_api, namespace, body) == "Complete"
    (run,) = runs_of(pod_runner, namespace, body["metadata"]["name"])
    assert run.logs().strip() == f"system:serviceaccount:{namespace}:default"


@pytest.mark.parametrize("how", ["delete-pod", "kill-process"])
def test_killed_worker_fails_its_pod(
    kube_api: client.ApiClient, namespace: str, pod_runner: PodRunner, how: str
) -> None:
    body = job(python("import time; print('started', flush=True); time.sleep(600)"))
    name = body["metadata"]["name"]
    client.BatchV1Api(kube_api).create_namespaced_job(namespace, body)
    run = wait_for(
        lambda: next((r for r in runs_of(pod_runner, namespace, name) if "started" in r.logs()), None),
        what="the worker process to start",
    )
    core = client.CoreV1Api(kube_api)
    if how == "delete-pod":
        core.delete_namespaced_pod(run.name, namespace)
    else:
        pod_runner.kill(run.name, namespace)
    assert wait_for_job_condition(kube_api, namespace, name) == "Failed"
    assert run.exit_code == 137
    if how == "delete-pod":  # and, as a kubelet does once its containers stopped, removed

        def gone() -> bool:
            try:
                core.read_namespaced_pod(run.name, namespace)
            except ApiException as exc:
                return exc.status == 404
            return False

        wait_for(gone, timeout=20, what="the deleted pod to be removed")


def test_restricted_user_needs_a_role_binding(
    kube_api: client.ApiClient, namespace: str, user_api: dict[str, client.ApiClient]
) -> None:
    alice = client.CoreV1Api(user_api["alice"])
    with pytest.raises(ApiException) as denied:
        alice.list_namespaced_secret(namespace)
    assert denied.value.status == 403

    rbac = client.RbacAuthorizationV1Api(kube_api)
    rule = {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list"]}
    rbac.create_namespaced_role(namespace, {"metadata": {"name": "secret-reader"}, "rules": [rule]})
    binding = {
        "metadata": {"name": "alice-reads-secrets"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "secret-reader"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "alice"}],
    }
    rbac.create_namespaced_role_binding(namespace, binding)

    def alice_can_list() -> bool:
        try:
            alice.list_namespaced_secret(namespace)
        except ApiException as error:
            if error.status != 403:
                raise
            return False
        return True

    wait_for(alice_can_list, timeout=30, what="alice's RoleBinding to take effect")
    bob = client.CoreV1Api(user_api["bob"])
    with pytest.raises(ApiException) as still_denied:
        bob.list_namespaced_secret(namespace)
    assert json.loads(still_denied.value.body)["code"] == 403


def test_pod_waits_for_a_missing_secret(
    kube_api: client.ApiClient, namespace: str, pod_runner: PodRunner
) -> None:
    env = [{"name": "TOKEN", "valueFrom": {"secretKeyRef": {"name": "late", "key": "token"}}}]
    body = job(python("import os; print(len(os.environ['TOKEN']))"), container={"env": env})
    client.BatchV1Api(kube_api).create_namespaced_job(namespace, body)
    core = client.CoreV1Api(kube_api)

    def waiting_reason() -> str | None:
        for pod in core.list_namespaced_pod(namespace).items:
            for status in pod.status.container_statuses or []:
                if status.state.waiting is not None:
                    return str(status.state.waiting.reason)
        return None

    assert wait_for(waiting_reason, what="the pod to report why it waits") == "CreateContainerConfigError"
    core.create_namespaced_secret(namespace, {"metadata": {"name": "late"}, "stringData": {"token": "abc"}})
    assert wait_for_job_condition(kube_api, namespace, body["metadata"]["name"]) == "Complete"
