"""Write a release's image reference into what installs it (`make release-manifests`).

The version has one place, `__version__` in operator/ferry/__init__.py (pyproject.toml reads it
from there, and so do the worker's default image and image/build.sh). This copies it, and the
image's digest once it is pushed, into the files that cannot import Python:

- charts/ferry/Chart.yaml: `version` and `appVersion` (the chart's default image tag);
- charts/ferry/values.yaml: `image.digest` (the operator's and workers' image by digest);
- manifests/install/kustomization.yaml: `images[0].newTag` and `digest`;
- manifests/install/deployment.yaml: the container's and FERRY_WORKER_IMAGE's tag (what a plain
  `kubectl apply -f` of the folder, without kustomize, would run);
- Containerfile: the default of `ARG VERSION` (a manual `docker build`'s label).

    python image/release_manifests.py [--digest sha256:<64 hex>] [--root DIR]

Without --digest the digests already written stay as they are (empty until a release sets one).
Only the lines named above change; comments and layout are kept. tests/unit/image/
test_release_manifests.py fails when a file disagrees with `__version__`.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

REPOSITORY = "ghcr.io/ferry-dev/ferry"
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


def read_version(root: Path) -> str:
    text = (root / "operator" / "ferry" / "__init__.py").read_text()
    match = re.search(r'^__version__ = "([^"]+)"$', text, re.M)
    if match is None:
        raise SystemExit("operator/ferry/__init__.py has no `__version__ = \"...\"` line")
    return match.group(1)


def _sub(path: Path, pattern: str, replacement: str, count: int = 0) -> None:
    """Replace `pattern` (a regex, multiline) in `path`; it must match."""
    text = path.read_text()
    new, found = re.subn(pattern, replacement, text, count=count, flags=re.M)
    if found == 0:
        raise SystemExit(f"{path}: no line matches {pattern!r}; was the file restructured?")
    path.write_text(new)


def write(root: Path, version: str, digest: str | None) -> None:
    chart = root / "charts" / "ferry"
    _sub(chart / "Chart.yaml", r"^version: .*$", f"version: {version}")
    _sub(chart / "Chart.yaml", r"^appVersion: .*$", f'appVersion: "{version}"')
    install = root / "manifests" / "install"
    _sub(install / "deployment.yaml", rf"{re.escape(REPOSITORY)}:[^\s@\"]+", f"{REPOSITORY}:{version}")
    kustomization = install / "kustomization.yaml"
    _sub(kustomization, r"^(    newTag: ).*$", rf"\g<1>{version}")
    _sub(root / "Containerfile", r"^ARG VERSION=.*$", f"ARG VERSION={version}")
    if digest is not None:
        _sub(chart / "values.yaml", r'^(  digest: ).*$', rf'\g<1>"{digest}"', count=1)
        text = kustomization.read_text()
        if re.search(r"^    digest: ", text, re.M):
            _sub(kustomization, r"^(    digest: ).*$", rf"\g<1>{digest}")
        else:
            _sub(kustomization, r"^(    newTag: .*)$", rf"\g<1>\n    digest: {digest}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--digest", help="the pushed image's digest, sha256:<64 hex>")
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1])
    args = parser.parse_args(argv)
    if args.digest is not None and not DIGEST.fullmatch(args.digest):
        parser.error(f"--digest must be sha256:<64 lowercase hex>, not {args.digest!r}")
    version = read_version(args.root)
    write(args.root, version, args.digest)
    pinned = f"{REPOSITORY}:{version}" + (f"@{args.digest}" if args.digest else "")
    print(f"manifests/install, the chart and the Containerfile now name {pinned}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
