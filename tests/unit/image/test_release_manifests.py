"""The version has one place (ferry.__version__); `make release-manifests` (image/release_manifests.py)
writes it and the pushed image's digest into the chart, manifests/install and the Containerfile."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

from ferry import __version__
from ferry.services.worker_jobs import DEFAULT_IMAGE

REPO = Path(__file__).resolve().parents[3]
SCRIPT = REPO / "image" / "release_manifests.py"
IMAGE = "ghcr.io/ferry-dev/ferry"
DIGEST = "sha256:" + "0123456789abcdef" * 4


def _kubectl() -> Path | None:
    assets = os.environ.get("KUBEBUILDER_ASSETS") or str(REPO / ".cache" / "controlplane" / "bin")
    candidate = Path(assets) / "kubectl"
    found = candidate if candidate.exists() else shutil.which("kubectl")
    return Path(found) if found else None


def _images(root: Path) -> dict[str, str]:
    """Every place that names the version or digest, read as the tools read them."""
    chart = yaml.safe_load((root / "charts/ferry/Chart.yaml").read_text())
    values = yaml.safe_load((root / "charts/ferry/values.yaml").read_text())
    [entry] = yaml.safe_load((root / "manifests/install/kustomization.yaml").read_text())["images"]
    deployment = yaml.safe_load((root / "manifests/install/deployment.yaml").read_text())
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    containerfile = (root / "Containerfile").read_text()
    arg = next(line for line in containerfile.splitlines() if line.startswith("ARG VERSION="))
    return {
        "chart version": chart["version"],
        "chart appVersion": chart["appVersion"],
        "values digest": values["image"]["digest"],
        "kustomize newTag": entry["newTag"],
        "kustomize digest": entry.get("digest", ""),
        "container image": container["image"],
        "worker image": env["FERRY_WORKER_IMAGE"],
        "Containerfile VERSION": arg.removeprefix("ARG VERSION="),
    }


def test_every_place_names_the_one_version() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert "version" not in project["project"] and project["project"]["dynamic"] == ["version"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "ferry.__version__"}
    assert f"{IMAGE}:{__version__}" == DEFAULT_IMAGE
    found = _images(REPO)
    stale = {
        name: value
        for name, value in found.items()
        if "digest" not in name and value not in (__version__, f"{IMAGE}:{__version__}")
    }
    assert stale == {}, f"run `make release-manifests` after changing ferry.__version__ ({__version__})"


def test_release_manifests_writes_the_version_and_digest(tmp_path: Path) -> None:
    for part in ("charts/ferry", "manifests/install", "operator/ferry/__init__.py", "Containerfile"):
        source, copy = REPO / part, tmp_path / part
        copy.parent.mkdir(parents=True, exist_ok=True)
        if source.is_dir():
            shutil.copytree(source, copy)
        else:
            shutil.copy(source, copy)
    init = tmp_path / "operator/ferry/__init__.py"
    init.write_text(init.read_text().replace(f'__version__ = "{__version__}"', '__version__ = "2.3.4"'))
    command = [sys.executable, str(SCRIPT), "--root", str(tmp_path), "--digest", DIGEST]
    done = subprocess.run(command, capture_output=True, text=True, check=True)
    assert f"{IMAGE}:2.3.4@{DIGEST}" in done.stdout
    assert _images(tmp_path) == {
        "chart version": "2.3.4",
        "chart appVersion": "2.3.4",
        "values digest": DIGEST,
        "kustomize newTag": "2.3.4",
        "kustomize digest": DIGEST,
        "container image": f"{IMAGE}:2.3.4",
        "worker image": f"{IMAGE}:2.3.4",
        "Containerfile VERSION": "2.3.4",
    }
    # Again with another digest: replaced, not added twice; the comments stay.
    subprocess.run([*command[:-1], "sha256:" + "f" * 64], capture_output=True, check=True)
    kustomization = (tmp_path / "manifests/install/kustomization.yaml").read_text()
    assert kustomization.count("digest: sha256:") == 1 and "# Pin the image by digest" in kustomization
    kubectl = _kubectl()
    if kubectl is not None:  # what `kubectl apply -k` then runs: the operator and workers by digest
        rendered = subprocess.run(
            [str(kubectl), "kustomize", str(tmp_path / "manifests/install")],
            check=True,
            capture_output=True,
            text=True,
            timeout=60,
        ).stdout
        deployment = next(d for d in yaml.safe_load_all(rendered) if d and d["kind"] == "Deployment")
        [container] = deployment["spec"]["template"]["spec"]["containers"]
        env = {e["name"]: e.get("value") for e in container["env"]}
        assert {container["image"], env["FERRY_WORKER_IMAGE"]} == {f"{IMAGE}:2.3.4@sha256:{'f' * 64}"}


def test_a_digest_that_is_not_one_is_refused(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--root", str(tmp_path), "--digest", "latest"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2 and "--digest must be sha256:<64 lowercase hex>" in done.stderr
