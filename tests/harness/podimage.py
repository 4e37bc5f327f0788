"""The pod runner's image mode: a pod's container run from a locally built image with buildah.

`buildah run --isolation chroot` (see shared notes on images: `podman run` cannot set rlimits
in this sandbox) runs the container's process on the image's own file system and Python,
with the host's network, so 127.0.0.1 databases and the test apiserver are reachable. What
a kubelet does around it is done here: the argv from `command`/`args` and the image's
ENTRYPOINT/CMD (Kubernetes' rules), the pod's env, `workingDir`, the user of the
securityContext, the ServiceAccount token mounted where in-cluster clients read it, and an
emptyDir at /tmp. Only what Ferry's pods use is supported.
"""

from __future__ import annotations

import functools
import json
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from harness.podenv import expand

SERVICE_ACCOUNT_DIR = "/run/secrets/kubernetes.io/serviceaccount"  # /var/run is a link to /run


def image_repository(reference: str) -> str:
    """`ghcr.io/ferry-dev/ferry:0.1.0@sha256:…` → `ghcr.io/ferry-dev/ferry` (tag and digest dropped)."""
    name = reference.split("@", 1)[0]
    last = name.rsplit("/", 1)[-1]
    return name[: len(name) - len(last)] + last.split(":", 1)[0]


@functools.cache
def image_config(image: str) -> dict[str, Any]:
    """The OCI config (Entrypoint, Cmd, User, WorkingDir, Env) of a local image."""
    output = subprocess.run(
        ["buildah", "inspect", "--type", "image", image], capture_output=True, text=True, check=True
    ).stdout
    config: dict[str, Any] = json.loads(output)["OCIv1"]["config"]
    return config


def image_argv(container: dict[str, Any], config: dict[str, Any], env: dict[str, str]) -> list[str]:
    """Kubernetes' rule: `command` replaces ENTRYPOINT (and drops CMD); `args` replace CMD."""
    command, args = container.get("command"), container.get("args")
    if command:
        parts = [*command, *(args or [])]
        return [expand(part, env) for part in parts]
    entrypoint = config.get("Entrypoint") or []
    if args:
        return [*entrypoint, *(expand(arg, env) for arg in args)]
    return [*entrypoint, *(config.get("Cmd") or [])]


def run_user(pod: dict[str, Any], container: dict[str, Any]) -> str | None:
    """`uid[:gid]` from the securityContext (the container's wins over the pod's); None: the image's."""
    pod_context = (pod.get("spec") or {}).get("securityContext") or {}
    context = {**pod_context, **(container.get("securityContext") or {})}
    uid, gid = context.get("runAsUser"), context.get("runAsGroup")
    if uid is None:
        return None
    return f"{uid}:{gid}" if gid is not None else str(uid)


def write_service_account(directory: Path, token: str, ca_pem: bytes, namespace: str) -> Path:
    """The files of the projected ServiceAccount volume (world-readable, as the kubelet's 0644)."""
    directory.mkdir(parents=True, exist_ok=True)
    for name, data in (("token", token.encode()), ("ca.crt", ca_pem), ("namespace", namespace.encode())):
        path = directory / name
        path.write_bytes(data)
        path.chmod(0o644)
    return directory


def in_cluster_env(server: str) -> dict[str, str]:
    """What the kubelet sets so in-cluster clients find the apiserver (here the test one)."""
    address = urlsplit(server)
    return {
        "KUBERNETES_SERVICE_HOST": address.hostname or "127.0.0.1",
        "KUBERNETES_SERVICE_PORT": str(address.port),
    }


def create_container(image: str, name: str) -> str:
    """A buildah working container of `image` (local only: nothing is pulled)."""
    subprocess.run(["buildah", "rm", name], capture_output=True, check=False)  # a leftover of a crash
    subprocess.run(
        ["buildah", "from", "--quiet", "--pull-never", "--name", name, image],
        capture_output=True,
        text=True,
        check=True,
    )
    return name


def remove_container(name: str) -> None:
    subprocess.run(["buildah", "rm", name], capture_output=True, check=False)


def buildah_run_argv(
    name: str,
    argv: list[str],
    env: dict[str, str],
    *,
    user: str | None,
    workdir: str | None,
    mounts: dict[Path, str],
) -> list[str]:
    """The `buildah run` command line running `argv` in working container `name`."""
    command = ["buildah", "run", "--isolation", "chroot"]
    if user is not None:
        command += ["--user", user]
    if workdir:
        command += ["--workingdir", workdir]
    for source, target in mounts.items():
        command += ["--volume", f"{source}:{target}"]
    for key, value in env.items():
        command += ["--env", f"{key}={value}"]
    return [*command, name, "--", *argv]


def image_launch(
    *,
    image: str,
    container_name: str,
    pod: dict[str, Any],
    container: dict[str, Any],
    env: dict[str, str],
    workdir: Path,
    token: str | None,
    ca_pem: bytes,
    server: str,
) -> tuple[list[str], list[str]]:
    """Create the working container; return (the process argv in the image, the buildah command).

    `workdir` (the pod's host directory) holds the ServiceAccount files and the /tmp emptyDir.
    `token` None: automountServiceAccountToken is false, so nothing is mounted.
    """
    pod_env = {"HOSTNAME": pod["metadata"]["name"], **env}
    mounts: dict[Path, str] = {}
    if token is not None:
        namespace = pod["metadata"]["namespace"]
        account = write_service_account(workdir / "serviceaccount", token, ca_pem, namespace)
        mounts[account] = f"{SERVICE_ACCOUNT_DIR}:ro"
        pod_env = {**in_cluster_env(server), **pod_env}
    for mount in container.get("volumeMounts") or []:  # Ferry's pods mount emptyDirs only (/tmp)
        volume = workdir / "volumes" / mount["name"]
        volume.mkdir(parents=True, exist_ok=True)
        volume.chmod(0o1777)  # any runAsUser may write, as on an emptyDir
        mounts[volume] = mount["mountPath"]
    argv = image_argv(container, image_config(image), pod_env)
    create_container(image, container_name)
    command = buildah_run_argv(
        container_name,
        argv,
        pod_env,
        user=run_user(pod, container),
        workdir=container.get("workingDir"),
        mounts=mounts,
    )
    return argv, command
