"""requirements.lock, the dependencies CI installs with --require-hashes: complete and pinned.

`make lock` regenerates it from pyproject.toml; this fails when a dependency was added to
pyproject.toml without regenerating, which would otherwise break `make install` on a clean
machine (pip refuses an unhashed requirement in hash-checking mode).
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def _name(requirement: str) -> str:
    match = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", requirement)
    assert match, requirement
    return re.sub(r"[-_.]+", "-", match.group(0)).lower()


def _locked() -> dict[str, tuple[str, list[str]]]:
    """name -> (version, hashes) from the lock's `name==version \\ --hash=...` entries."""
    text = (REPO / "requirements.lock").read_text()
    entries: dict[str, tuple[str, list[str]]] = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", text):
        match = re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?==(\S+)", block)
        if match:
            entries[_name(match.group(1))] = (
                match.group(3),
                re.findall(r"--hash=sha256:[0-9a-f]{64}", block),
            )
    return entries


def test_every_dependency_of_pyproject_is_locked_with_hashes() -> None:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    wanted = {_name(r) for r in project["dependencies"] + project["optional-dependencies"]["dev"]}
    locked = _locked()
    assert wanted - set(locked) == set(), "run `make lock`"
    for name, (version, hashes) in locked.items():
        assert re.fullmatch(r"[0-9][0-9A-Za-z.+!-]*", version), (name, version)
        assert hashes, f"{name} has no hash: pip --require-hashes would refuse the lock"


def test_ci_installs_the_lock_with_hashes_and_make_lock_regenerates_it() -> None:
    makefile = (REPO / "Makefile").read_text()
    assert "pip install -q --require-hashes -r requirements.lock" in makefile
    assert "pip install -q --no-deps -e ." in makefile
    assert re.search(
        r"^lock:.*\n(\t.*\n)*\t.*uv pip compile pyproject.toml --extra dev --generate-hashes", makefile, re.M
    )
    assert "make install" in (REPO / ".ci" / "run").read_text()
