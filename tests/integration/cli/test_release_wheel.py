"""The Python release as a user gets it: `python -m build` makes a wheel and an sdist that pass
`twine check`, the wheel installs alone into a fresh virtualenv (dependencies from the package
index, nothing from this tree), and that install's `ferry run` moves Chinook from its SQLite
file into a real PostgreSQL with checksums equal. The krew plugin's archive carries the same
wheel, and its launcher runs that install as `kubectl-ferry`.

About a minute (marker `release`, `make test-release`): the build and, above all, pip's install of
the dependencies into the virtualenv (once per module; bytecode is not compiled, to save 10 s).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tarfile
import textwrap
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from conftest import DATASETS
from ferry import __version__
from harness.databases import Database
from integration.copy.helpers import pg_rows

pytestmark = pytest.mark.release

REPO = Path(__file__).resolve().parents[3]
CHINOOK_ROWS = 15607


@dataclass(frozen=True)
class Release:
    dist: Path
    wheel: Path
    sdist: Path
    venv: Path


def _run(*command: str | Path, cwd: Path, env: dict[str, str] | None = None) -> str:
    done = subprocess.run(
        [str(part) for part in command], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, f"{command}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def _clean_env() -> dict[str, str]:
    """The environment without this tree on PYTHONPATH, so only the installed package is seen."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}


@pytest.fixture(scope="module")
def release(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Release]:
    work = tmp_path_factory.mktemp("release")
    # The sources a release is built from, copied so the work tree gets no build/ or egg-info.
    source = work / "source"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(REPO / name, source / name)
    shutil.copytree(
        REPO / "operator" / "ferry",
        source / "operator" / "ferry",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    dist = work / "dist"
    _run(sys.executable, "-m", "build", "--outdir", dist, source, cwd=work, env=_clean_env())
    venv = work / "venv"
    _run(sys.executable, "-m", "venv", venv, cwd=work, env=_clean_env())
    wheel = dist / f"ferry-{__version__}-py3-none-any.whl"
    _run(
        venv / "bin" / "pip",
        "install",
        "--quiet",
        "--no-compile",
        "--disable-pip-version-check",
        wheel,
        cwd=work,
        env=_clean_env(),
    )
    yield Release(dist, wheel, dist / f"ferry-{__version__}.tar.gz", venv)


def test_build_makes_a_wheel_and_sdist_that_pass_twine_check(release: Release) -> None:
    assert sorted(p.name for p in release.dist.iterdir()) == sorted([release.wheel.name, release.sdist.name])
    _run(sys.executable, "-m", "twine", "check", "--strict", release.wheel, release.sdist, cwd=release.dist)
    with zipfile.ZipFile(release.wheel) as wheel:
        names = wheel.namelist()
        metadata = wheel.read(f"ferry-{__version__}.dist-info/METADATA").decode()
        entry_points = wheel.read(f"ferry-{__version__}.dist-info/entry_points.txt").decode()
    assert "ferry/cli/main.py" in names and "ferry/py.typed" in names
    assert f"Version: {__version__}" in metadata and "License-Expression: Apache-2.0" in metadata
    assert "ferry = ferry.cli.main:main" in entry_points
    assert "kubectl-ferry = ferry.cli.main:main" in entry_points
    with tarfile.open(release.sdist) as sdist:
        members = {m.name.split("/", 1)[1] for m in sdist.getmembers() if "/" in m.name}
    assert {"pyproject.toml", "README.md", "operator/ferry/__init__.py"} <= members


def test_the_installed_wheel_runs_a_migration(release: Release, pg_db: Database, tmp_path: Path) -> None:
    source = tmp_path / "chinook.sqlite"
    shutil.copy(DATASETS / "chinook" / "Chinook_Sqlite.sqlite", source)
    bundle = tmp_path / "bundle.yaml"
    bundle.write_text(
        textwrap.dedent(f"""\
        apiVersion: v1
        kind: Secret
        metadata: {{name: pg}}
        stringData: {{username: {pg_db.user}}}
        ---
        apiVersion: ferry.dev/v1alpha1
        kind: DatabaseConnection
        metadata: {{name: file}}
        spec: {{engine: sqlite, database: "{source}"}}
        ---
        apiVersion: ferry.dev/v1alpha1
        kind: DatabaseConnection
        metadata: {{name: pg}}
        spec: {{engine: postgresql, host: {pg_db.host}, port: {pg_db.port}, database: {pg_db.name},
               credentialsSecretRef: {{name: pg}}}}
        ---
        apiVersion: ferry.dev/v1alpha1
        kind: Migration
        metadata: {{name: chinook}}
        spec:
          source: {{connectionRef: {{name: file}}}}
          target: {{connectionRef: {{name: pg}}}}
          schema: {{mode: create}}
          validation: {{rowCount: true, checksum: true}}
        """)
    )
    # The password from the environment (--secrets-from-env), as CI would pass it.
    env = {**_clean_env(), "FERRY_SECRET_PG_PASSWORD": pg_db.password}
    ferry = release.venv / "bin" / "ferry"
    out = _run(ferry, "run", "-f", bundle, "--secrets-from-env", "--no-progress", cwd=tmp_path, env=env)
    assert f"{CHINOOK_ROWS:,} rows" in out and "checksum ok" in out and "MISMATCH" not in out, out
    [(tracks,)] = pg_rows(pg_db, 'SELECT count(*) FROM "Track"')
    assert tracks == 3503
    # The installed package, not this tree, ran: its module lives in the virtualenv.
    where = _run(
        release.venv / "bin" / "python",
        "-c",
        "import ferry; print(ferry.__file__)",
        cwd=tmp_path,
        env=_clean_env(),
    )
    assert where.startswith(str(release.venv)), where


def test_the_krew_archive_carries_the_wheel_and_its_launcher_runs_it(
    release: Release, tmp_path: Path
) -> None:
    manifest = tmp_path / "ferry.yaml"
    shutil.copy(REPO / "plugins" / "krew" / "ferry.yaml", manifest)
    env = {
        **_clean_env(),
        "DIST": str(release.dist),
        "MANIFEST": str(manifest),
        "BASE_URL": "https://example.test/v",
    }
    _run("bash", REPO / "plugins" / "krew" / "build.sh", cwd=tmp_path, env=env)
    archive = release.dist / f"kubectl-ferry-{__version__}.tar.gz"
    plugin = yaml.safe_load(manifest.read_text())
    assert plugin["kind"] == "Plugin" and plugin["metadata"]["name"] == "ferry"
    assert plugin["spec"]["version"] == f"v{__version__}"
    [platform] = plugin["spec"]["platforms"]
    assert platform["uri"] == f"https://example.test/v/{archive.name}"
    assert platform["sha256"] == hashlib.sha256(archive.read_bytes()).hexdigest()
    store = tmp_path / "store"
    with tarfile.open(archive) as tar:
        assert sorted(tar.getnames()) == sorted([platform["bin"], release.wheel.name])
        tar.extractall(store, filter="data")
    # krew links the bin into its own folder; the launcher follows the link to the wheel. The
    # virtualenv made above stands for the one the launcher makes on first use (same commands).
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "kubectl-ferry").symlink_to(store / "kubectl-ferry")
    env = {**_clean_env(), "FERRY_KREW_VENV": str(release.venv)}
    out = _run(bin_dir / "kubectl-ferry", "--help", cwd=tmp_path, env=env)
    assert "approve the current plan of a Migration" in out
