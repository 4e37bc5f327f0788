"""A stand-in kubelet: runs the pods of the test control plane as local processes.

There is no scheduler and no kubelet in the test cluster, so Job pods would stay Pending. The
runner watches pods, binds each unscheduled one to a fake Node, runs the first container's
`command + args` locally (the image is ignored; `ferry …` resolves to this venv's console
script), and writes pod status the way a kubelet does, so the real Job controller completes or
fails the Job. The process gets a kubeconfig holding a token minted for the pod's
ServiceAccount (TokenRequest API, bound to the pod), so RBAC applies to it as in a cluster.

Image mode (`images`, repository → local image): a pod whose container image belongs to a
mapped repository runs from that locally built image instead, with `buildah run`
(`harness.podimage`): the image's file system and entrypoint, the token mounted where
in-cluster clients read it. Other pods still run from the source tree.

Deleting a pod SIGKILLs its process (how tests simulate a lost worker); `kill()` does the same
without deleting the pod. An evicted pod (the eviction API marks it `DisruptionTarget`, then
deletes it) ends Failed with that condition kept, as a kubelet leaves it. Each pod's stdout and
stderr go to one log file, kept after the run so tests can scan them for leaked secrets. Init
containers and sidecars are not run.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import urllib3
from kubernetes import client
from kubernetes.client.exceptions import ApiException
from kubernetes.watch.watch import iter_resp_lines

from harness import podimage
from harness.controlplane import kubeconfig_yaml
from harness.podenv import ContainerConfigError, container_argv, container_env
from harness.podrun import PodRun
from harness.podstatus import container_status, now, pod_status_patch, ready_node

log = logging.getLogger(__name__)

NODE_NAME = "harness-node"
VENV_BIN = Path(sys.executable).parent
_CONFIG_RETRY_SECONDS = 1.0
_RESTART_BACKOFF_SECONDS = 1.0
_STATUS_RETRY_SECONDS = 180.0  # a pod's status write waits this long for an API server that is down


class PodRunner:
    """Watches pods (optionally only those matching `label_selector`) and runs them."""

    def __init__(
        self,
        api: client.ApiClient,
        server: str,
        ca_path: Path,
        base_dir: Path | None = None,
        label_selector: str | None = None,
        images: dict[str, str] | None = None,
    ) -> None:
        self.api = api
        self.core = client.CoreV1Api(api)
        self.server = server
        self.ca_pem = ca_path.read_bytes()
        self.base_dir = base_dir or Path(tempfile.mkdtemp(prefix="ferry-pods-"))
        self.label_selector = label_selector
        self.images = dict(images or {})  # image repository -> local image (image mode)
        self._runs: dict[str, PodRun] = {}  # by pod uid
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._watch_response: Any = None
        self._thread = threading.Thread(target=self._watch_loop, name="pod-runner", daemon=True)
        self._workers: list[threading.Thread] = []

    # --- public API -------------------------------------------------------------------------------

    def start(self) -> PodRunner:
        (self.base_dir / "logs").mkdir(parents=True, exist_ok=True)
        self._ensure_node()
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop watching and SIGKILL whatever still runs; pod statuses are left as they are."""
        self._stopping.set()
        response = self._watch_response
        if response is not None:
            response.shutdown()
        for run in self.runs():
            run.signal_kill()
        self._thread.join(timeout=10)
        for worker in list(self._workers):
            worker.join(timeout=10)

    def runs(self, namespace: str | None = None) -> list[PodRun]:
        with self._lock:
            return [run for run in self._runs.values() if namespace is None or run.namespace == namespace]

    def run_for(self, pod_name: str, namespace: str | None = None) -> PodRun:
        matches = [run for run in self.runs(namespace) if run.name == pod_name]
        if len(matches) != 1:
            raise LookupError(f"{len(matches)} runs of pod {pod_name!r} (namespace {namespace!r})")
        return matches[0]

    def kill(self, pod_name: str, namespace: str | None = None) -> None:
        """SIGKILL the pod's process (as if its container crashed); the pod ends Failed with exit code 137."""
        self.run_for(pod_name, namespace).signal_kill()

    def logs(self, pod_name: str, namespace: str | None = None) -> str:
        return self.run_for(pod_name, namespace).logs()

    def all_logs(self) -> str:
        """Every pod log so far, concatenated (for secret scans)."""
        return "\n".join(run.logs() for run in self.runs())

    # --- watching -------------------------------------------------------------------------------

    def _ensure_node(self) -> None:
        node = ready_node(NODE_NAME)
        try:
            self.core.create_node(node)
        except ApiException as error:
            if error.status != 409:
                raise
        self.core.patch_node_status(
            NODE_NAME, {"status": node["status"]}, _content_type="application/merge-patch+json"
        )

    def _watch_loop(self) -> None:
        while not self._stopping.is_set():
            try:
                resource_version = self._list_and_handle()
                while not self._stopping.is_set():
                    resource_version = self._watch_once(resource_version)
            except Exception as error:
                if self._stopping.is_set():
                    return
                log.warning("pod watch failed (%s); listing again", error)
                self._stopping.wait(0.5)

    def _list_and_handle(self) -> str:
        response = self.core.list_pod_for_all_namespaces(
            label_selector=self.label_selector, _preload_content=False
        )
        pods = json.loads(response.data)
        for pod in pods["items"]:
            self._handle("ADDED", pod)
        # A pod deleted while we were not watching is simply absent: stop its process too.
        present = {pod["metadata"]["uid"] for pod in pods["items"]}
        for run in self.runs():
            if run.uid not in present and not run.deleted:
                run.deleted = True
                run.signal_kill()
        return str(pods["metadata"]["resourceVersion"])

    def _watch_once(self, resource_version: str) -> str:
        response = self.core.list_pod_for_all_namespaces(
            watch=True,
            resource_version=resource_version,
            allow_watch_bookmarks=True,
            timeout_seconds=300,
            label_selector=self.label_selector,
            _preload_content=False,
        )
        self._watch_response = response
        try:
            for line in iter_resp_lines(response):
                if not line:
                    continue
                event = json.loads(line)
                if event["type"] == "ERROR":  # typically 410 Gone: the caller lists again
                    raise RuntimeError(event["object"].get("message", "watch error"))
                resource_version = event["object"]["metadata"]["resourceVersion"]
                if event["type"] != "BOOKMARK":
                    self._handle(event["type"], event["object"])
        finally:
            self._watch_response = None
            response.release_conn()
        return resource_version

    def _handle(self, event_type: str, pod: dict[str, Any]) -> None:
        uid = pod["metadata"]["uid"]
        with self._lock:
            run = self._runs.get(uid)
        if event_type == "DELETED" or pod["metadata"].get("deletionTimestamp"):
            if run is not None and not run.deleted:
                # An eviction marks the pod DisruptionTarget first; the last status keeps it.
                conditions = (pod.get("status") or {}).get("conditions") or []
                run.kept_conditions = tuple(c for c in conditions if c.get("type") == "DisruptionTarget")
                run.deleted = True
                run.signal_kill()
                if event_type != "DELETED" and run.exit_code is not None:
                    # Its process had ended before the deletion: no run thread is left to remove
                    # the pod, and a kubelet removes a deleted pod once its containers stopped.
                    self._delete_now(run)
            return
        spec, phase = pod.get("spec") or {}, (pod.get("status") or {}).get("phase", "Pending")
        if run is not None or spec.get("nodeName") or phase != "Pending" or self._stopping.is_set():
            return
        namespace, name = pod["metadata"]["namespace"], pod["metadata"]["name"]
        workdir = self.base_dir / "pods" / f"{namespace}_{name}_{uid[:8]}"
        run = PodRun(
            namespace, name, uid, log_path=self.base_dir / "logs" / f"{namespace}_{name}.log", workdir=workdir
        )
        with self._lock:
            self._runs[uid] = run
        worker = threading.Thread(target=self._run_pod, args=(run, pod), name=f"pod-{name}", daemon=True)
        self._workers.append(worker)
        worker.start()

    # --- running one pod ------------------------------------------------------------------------

    def _run_pod(self, run: PodRun, pod: dict[str, Any]) -> None:
        try:
            self._bind(run, pod)
            pod["spec"]["nodeName"] = NODE_NAME
            container = pod["spec"]["containers"][0]
            env = self._wait_for_env(run, pod, container)
            if env is None:
                return
            run.workdir.mkdir(parents=True, exist_ok=True)
            run.image = self.images.get(podimage.image_repository(container.get("image", "")))
            mount_token = pod["spec"].get("automountServiceAccountToken") is not False
            if run.image is not None:
                run.env = env
                run.argv, run.launch = podimage.image_launch(
                    image=run.image,
                    container_name=f"pod-{run.uid}",
                    pod=pod,
                    container=container,
                    env=env,
                    workdir=run.workdir,
                    token=self._token(run, pod) if mount_token else None,
                    ca_pem=self.ca_pem,
                    server=self.server,
                )
            else:
                if mount_token:
                    env.setdefault("KUBECONFIG", str(self._write_kubeconfig(run, pod)))
                run.env = env
                run.argv = container_argv(container, env)
            self._run_container(run, pod, container)
        except Exception:
            if not self._stopping.is_set() and not run.deleted:
                log.exception("pod runner failed on %s/%s", run.namespace, run.name)
        finally:
            if run.launch:
                podimage.remove_container(f"pod-{run.uid}")
            run.finished.set()

    def _bind(self, run: PodRun, pod: dict[str, Any]) -> None:
        binding = {
            "metadata": {"name": run.name},
            "target": {"apiVersion": "v1", "kind": "Node", "name": NODE_NAME},
        }
        self.core.create_namespaced_pod_binding(run.name, run.namespace, binding, _preload_content=False)

    def _wait_for_env(
        self, run: PodRun, pod: dict[str, Any], container: dict[str, Any]
    ) -> dict[str, str] | None:
        """Resolve the env, retrying while a Secret/ConfigMap is missing (the pod shows why it waits)."""
        reported = False
        while not (self._stopping.is_set() or run.deleted):
            try:
                return container_env(self.core, pod, container)
            except ContainerConfigError as error:
                if not reported:
                    waiting = {"waiting": {"reason": "CreateContainerConfigError", "message": str(error)}}
                    self._patch_status(
                        run, {"phase": "Pending", **container_status(container, waiting, False, 0)}
                    )
                    reported = True
                self._stopping.wait(_CONFIG_RETRY_SECONDS)
        return None

    def _token(self, run: PodRun, pod: dict[str, Any]) -> str:
        """A token of the pod's ServiceAccount bound to the pod (TokenRequest), as a kubelet mints."""
        account = pod["spec"].get("serviceAccountName") or "default"
        request = {
            "spec": {
                "expirationSeconds": 3600,
                "boundObjectRef": {"apiVersion": "v1", "kind": "Pod", "name": run.name, "uid": run.uid},
            }
        }
        token: str = self.core.create_namespaced_service_account_token(
            account, run.namespace, request
        ).status.token
        return token

    def _write_kubeconfig(self, run: PodRun, pod: dict[str, Any]) -> Path:
        account = pod["spec"].get("serviceAccountName") or "default"
        token = self._token(run, pod)
        path = run.workdir / "kubeconfig"
        path.write_text(
            kubeconfig_yaml(self.server, self.ca_pem, token, user=f"system:serviceaccount:{account}")
        )
        path.chmod(0o600)
        return path

    def _process_env(self, run: PodRun) -> dict[str, str]:
        # The runner's own cluster settings must not leak in: the pod sees only its kubeconfig.
        base = {k: v for k, v in os.environ.items() if not k.startswith("KUBERNETES_") and k != "KUBECONFIG"}
        base["PATH"] = f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"
        base["HOSTNAME"] = run.name
        return {**base, **run.env}

    def _run_container(self, run: PodRun, pod: dict[str, Any], container: dict[str, Any]) -> None:
        restart_on_failure = pod["spec"].get("restartPolicy") == "OnFailure"
        env = self._process_env(run)
        pod_started = now()
        last_state: dict[str, Any] = {}
        while True:
            started = now()
            exit_code = self._start_process(run, env)
            if run.process is not None:
                running = {"running": {"startedAt": started}}
                status = container_status(container, running, True, run.restarts, last_state)
                self._patch_status(run, {"phase": "Running", "startTime": pod_started, **status}, ready=True)
                run.process.wait()
                exit_code = (
                    run.process.returncode if run.process.returncode >= 0 else 128 - run.process.returncode
                )
            terminated = {
                "exitCode": exit_code,
                "reason": "Completed"
                if exit_code == 0
                else ("StartError" if run.process is None else "Error"),
                "startedAt": started,
                "finishedAt": now(),
                "containerID": f"harness://{run.uid}/{run.restarts}",
            }
            if exit_code == 0 or not restart_on_failure or run.deleted or self._stopping.is_set():
                break
            last_state = {"terminated": terminated}
            run.restarts += 1
            self._stopping.wait(_RESTART_BACKOFF_SECONDS)
        run.exit_code = exit_code
        if self._stopping.is_set():
            return
        phase = "Succeeded" if exit_code == 0 else "Failed"
        status = container_status(container, {"terminated": terminated}, False, run.restarts, last_state)
        self._patch_status(run, {"phase": phase, "startTime": pod_started, **status})
        if run.deleted:  # the kubelet's last word on a deleted pod: remove it now that it stopped
            self._delete_now(run)

    def _start_process(self, run: PodRun, env: dict[str, str]) -> int:
        """Start the container's process; on failure log why (as the kubelet would) and return 128."""
        run.process = None
        with run.log_path.open("ab") as log_file:
            if run.launch:  # image mode: the pod's env is on the buildah command line
                argv, env = run.launch, {"PATH": os.environ.get("PATH", "")}
            else:
                executable = shutil.which(run.argv[0], path=env.get("PATH")) if run.argv else None
                if executable is None or run.deleted:
                    log_file.write(
                        f"harness: cannot start container: executable {run.argv[:1]} not found\n".encode()
                    )
                    return 128
                argv = [executable, *run.argv[1:]]
            if run.deleted:
                return 128
            run.process = subprocess.Popen(
                argv,
                env=env,
                cwd=run.workdir,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own process group, so SIGKILL takes its children too
            )
        if run.deleted:  # deleted while starting
            run.signal_kill()
        return 0

    def _patch_status(self, run: PodRun, status: dict[str, Any], ready: bool = False) -> None:
        """Like the kubelet, keep trying through an API server outage (up to _STATUS_RETRY_SECONDS)."""
        body = pod_status_patch(status, ready, run.kept_conditions)
        deadline = time.monotonic() + _STATUS_RETRY_SECONDS
        while True:
            try:
                self.core.patch_namespaced_pod_status(
                    run.name, run.namespace, body, _content_type="application/merge-patch+json"
                )
                return
            except ApiException as error:
                if error.status == 404:  # a pod already gone has no status to write
                    return
                if error.status < 500 or time.monotonic() > deadline:
                    raise
            except (urllib3.exceptions.HTTPError, OSError):
                if time.monotonic() > deadline or self._stopping.is_set():
                    raise
            self._stopping.wait(1.0)

    def _delete_now(self, run: PodRun) -> None:
        # The grace period goes in the body: with a body, the API server ignores the query's.
        options = {"gracePeriodSeconds": 0, "preconditions": {"uid": run.uid}}
        try:
            self.core.delete_namespaced_pod(run.name, run.namespace, body=options)
        except ApiException as error:
            if error.status not in (404, 409):
                raise
