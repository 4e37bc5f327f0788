"""Ferry's container image for the tests: built once per content, then reused.

The tag is `localhost/ferry:test-<hash>`, the hash over everything that goes into the image
(Containerfile, image/, pyproject.toml, README.md and the package source). An image with
that tag already in buildah's storage is reused, so a warm run costs nothing; a source
change builds a new one with `image/build.sh` (wheels on the host, buildah, the Debian base
of image/debian-base.sh). Needs root and buildah/mmdebstrap (tests/harness/install-system-deps.sh).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
REPOSITORY = "ghcr.io/ferry-dev/ferry"  # what the manifests and the chart name
_INPUTS = ("Containerfile", "image", "pyproject.toml", "README.md", "operator/ferry")


class ImageBuildError(RuntimeError):
    pass


def content_hash() -> str:
    """sha256 over the image's inputs: file paths and bytes, bytecode caches left out."""
    digest = hashlib.sha256()
    for name in _INPUTS:
        root = REPO / name
        files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.is_file())
        for path in files:
            if "__pycache__" in path.parts or path.suffix == ".pyc":
                continue
            digest.update(path.relative_to(REPO).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


def image_exists(image: str) -> bool:
    inspect = ["buildah", "inspect", "--type", "image", image]
    return subprocess.run(inspect, capture_output=True, check=False).returncode == 0


def _remove_older_test_images(keep: str) -> None:
    """Images of earlier contents: 240 MB each, never used again."""
    listed = subprocess.run(
        ["buildah", "images", "--format", "{{.Name}}:{{.Tag}}"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout.split()
    old = [name for name in listed if name.startswith("localhost/ferry:test-") and name != keep]
    if old:
        subprocess.run(["buildah", "rmi", *old], capture_output=True, check=False)


def ensure_image() -> str:
    """The local tag of the image of this source tree, built when it is not there yet."""
    missing = [tool for tool in ("buildah", "mmdebstrap") if shutil.which(tool) is None]
    if missing:
        raise ImageBuildError(f"{missing} not installed: run tests/harness/install-system-deps.sh as root")
    image = f"localhost/ferry:test-{content_hash()[:16]}"
    if image_exists(image):
        print(f"\nimage {image} reused (same content)")
        return image
    started = time.monotonic()
    env = {**os.environ, "IMAGE": image, "BUILDER": "buildah", "PYTHON": sys.executable}
    result = subprocess.run(
        ["bash", str(REPO / "image" / "build.sh")], env=env, capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        raise ImageBuildError(f"image/build.sh failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}")
    print(f"\n{result.stdout.strip().splitlines()[-1]} [{time.monotonic() - started:.0f} s in the test]")
    _remove_older_test_images(keep=image)
    return image
