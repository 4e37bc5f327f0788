"""Small Kubernetes helpers for tests: clients from a token, CRDs applied, conditions awaited.

Clients are built from an explicit `Configuration` and never through `load_kube_config()`,
which would change the process-wide default and leak between tests (and into the operator).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import yaml
from kubernetes import client
from kubernetes.client.exceptions import ApiException

T = TypeVar("T")


def api_client(server: str, ca_path: Path, token: str) -> client.ApiClient:
    configuration = client.Configuration()
    configuration.host = server
    configuration.ssl_ca_cert = str(ca_path)
    configuration.api_key = {"authorization": token}
    configuration.api_key_prefix = {"authorization": "Bearer"}
    return client.ApiClient(configuration)


def wait_for(
    check: Callable[[], T | None], timeout: float = 60, what: str = "a condition", interval: float = 0.25
) -> T:
    """Poll `check` until it returns something truthy; return that. Raises TimeoutError naming `what`."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


def has_condition(obj: Any, type_: str, status: str = "True") -> bool:
    """True when a typed client object or a plain dict has condition `type_` with `status`."""
    if isinstance(obj, dict):
        conditions = (obj.get("status") or {}).get("conditions") or []
        return any(c.get("type") == type_ and c.get("status") == status for c in conditions)
    conditions = getattr(obj.status, "conditions", None) or []
    return any(c.type == type_ and c.status == status for c in conditions)


def load_crds(paths: Iterable[Path]) -> list[dict[str, Any]]:
    return [doc for path in sorted(paths) for doc in yaml.safe_load_all(path.read_text()) if doc]


def apply_crds(api: client.ApiClient, crds: Iterable[dict[str, Any]], timeout: float = 60) -> list[str]:
    """Create or replace each CRD, then wait until all are Established; returns their names."""
    extensions = client.ApiextensionsV1Api(api)
    names = []
    for crd in crds:
        name = crd["metadata"]["name"]
        names.append(name)
        try:
            extensions.create_custom_resource_definition(crd)
        except ApiException as error:
            if error.status != 409:
                raise
            current = extensions.read_custom_resource_definition(name)
            body = {
                **crd,
                "metadata": {**crd["metadata"], "resourceVersion": current.metadata.resource_version},
            }
            extensions.replace_custom_resource_definition(name, body)
    for name in names:
        wait_for(
            lambda n=name: has_condition(extensions.read_custom_resource_definition(n), "Established"),  # type: ignore[misc]
            timeout=timeout,
            what=f"CRD {name} to be Established",
        )
    return names


def create_namespace(api: client.ApiClient, prefix: str = "t") -> str:
    """A fresh namespace, returned once its `default` ServiceAccount exists.

    Pods cannot be created before that (ServiceAccount admission), and the Job controller
    would back off for seconds instead of creating them.
    """
    name = f"{prefix}-{uuid.uuid4().hex[:8]}"
    core = client.CoreV1Api(api)
    core.create_namespace({"metadata": {"name": name, "labels": {"ferry.dev/test": "true"}}})

    def default_account_exists() -> bool:
        return bool(core.list_namespaced_service_account(name, field_selector="metadata.name=default").items)

    wait_for(default_account_exists, timeout=30, what=f"ServiceAccount {name}/default", interval=0.05)
    return name


def delete_namespace(api: client.ApiClient, name: str) -> None:
    """Delete without waiting: the namespace controller finishes it in the background."""
    try:
        client.CoreV1Api(api).delete_namespace(name, propagation_policy="Background")
    except ApiException as error:
        if error.status != 404:
            raise


def wait_for_job_condition(api: client.ApiClient, namespace: str, name: str, timeout: float = 60) -> str:
    """Wait until the Job is Complete or Failed; return which."""
    batch = client.BatchV1Api(api)

    def finished() -> str | None:
        job = batch.read_namespaced_job(name, namespace)
        for type_ in ("Complete", "Failed"):
            if has_condition(job, type_):
                return type_
        return None

    return wait_for(finished, timeout=timeout, what=f"Job {namespace}/{name} to finish")


def custom_objects(api: client.ApiClient) -> client.CustomObjectsApi:
    return client.CustomObjectsApi(api)


def hand_to_project(api: client.ApiClient, namespace: str, project: str) -> None:
    """Label an existing namespace `ferry.dev/project=<project>`, so that Project may own it:
    Projects never adopt a namespace that exists without Ferry's label."""
    client.CoreV1Api(api).patch_namespace(namespace, {"metadata": {"labels": {"ferry.dev/project": project}}})
