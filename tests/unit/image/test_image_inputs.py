"""The image's pure parts: the runtime lock against pyproject.toml, and how the pod runner's
image mode turns a pod spec into what `buildah run` gets (Kubernetes' command/args rules)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from harness.podimage import image_argv, image_repository, run_user

REPO = Path(__file__).resolve().parents[3]
IMAGE_CONFIG = {"Entrypoint": ["ferry"], "Cmd": ["--help"]}


def _name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9_.-]+", requirement)
    assert match, requirement
    return re.sub(r"[-_.]+", "-", match.group(0)).lower()


def test_the_lock_pins_every_runtime_dependency_exactly() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    lines = [
        line for line in (REPO / "image" / "requirements.lock").read_text().splitlines() if line[:1] != "#"
    ]
    assert all("==" in line for line in lines), lines
    pinned = {_name(line) for line in lines}
    missing = {_name(dep) for dep in project["dependencies"]} - pinned
    assert not missing, f"not in image/requirements.lock (run `make image-lock`): {sorted(missing)}"
    assert "psycopg-binary" in pinned  # the [binary] extra: no libpq or compiler in the image


def test_the_containerfile_runs_ferry_as_the_manifests_user() -> None:
    containerfile = (REPO / "Containerfile").read_text()
    assert 'ENTRYPOINT ["ferry"]' in containerfile
    assert "USER 65532:65532" in containerfile  # runAsUser/runAsGroup of manifests/install
    deployment = (REPO / "manifests" / "install" / "deployment.yaml").read_text()
    assert "runAsUser: 65532" in deployment


def test_the_image_repository_ignores_tag_digest_and_keeps_a_registry_port() -> None:
    assert image_repository("ghcr.io/ferry-dev/ferry:0.1.0") == "ghcr.io/ferry-dev/ferry"
    assert image_repository("ghcr.io/ferry-dev/ferry:0.1.0@sha256:" + "a" * 64) == "ghcr.io/ferry-dev/ferry"
    assert image_repository("registry:5000/ferry") == "registry:5000/ferry"
    assert image_repository("registry:5000/ferry:1") == "registry:5000/ferry"


def test_command_replaces_the_entrypoint_and_args_replace_cmd() -> None:
    env = {"NS": "team-a"}
    assert image_argv({"command": ["ferry", "worker"], "args": ["-n", "$(NS)"]}, IMAGE_CONFIG, env) == [
        "ferry",
        "worker",
        "-n",
        "team-a",
    ]
    assert image_argv({"args": ["operator", "$(NS)"]}, IMAGE_CONFIG, env) == ["ferry", "operator", "team-a"]
    assert image_argv({}, IMAGE_CONFIG, env) == ["ferry", "--help"]


def test_the_containers_security_context_wins_over_the_pods() -> None:
    pod = {"spec": {"securityContext": {"runAsUser": 65532, "runAsGroup": 65532}}}
    assert run_user(pod, {}) == "65532:65532"
    assert run_user(pod, {"securityContext": {"runAsUser": 1000}}) == "1000:65532"
    assert run_user({"spec": {}}, {}) is None  # the image's USER
