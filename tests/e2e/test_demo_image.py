"""`make demo-image`: the demo as a user would see it with the released image. The operator is
installed with `kubectl apply -k manifests/install`, its pod and the workers run from the image,
and both example Migrations (PostgreSQL → PostgreSQL, MariaDB → PostgreSQL) reach Succeeded in
the live status view. Marked `image` (`make test-image`); about 3 minutes with the image built."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.image_install import busy_operator_ports

pytestmark = pytest.mark.image

REPO = Path(__file__).resolve().parents[2]


def test_the_demo_runs_from_the_image() -> None:
    busy = busy_operator_ports()
    if busy:
        pytest.fail(f"ports {busy} are in use on this host; the operator pod shares the host network")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "tests"), str(REPO / "operator")])}
    done = subprocess.run(
        [sys.executable, "-m", "harness.demo", "--image"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    out = done.stdout
    assert done.returncode == 0, f"{out[-4000:]}\n{done.stderr[-4000:]}"
    assert "kubectl apply --server-side -k manifests/install; pods run from localhost/ferry:test-" in out
    listing = out.rsplit("kubectl get dbc,mig", 1)[1]
    migrations = [line for line in listing.splitlines() if line.startswith("migration.ferry.dev/")]
    assert len(migrations) == 2 and all("Succeeded" in line for line in migrations), listing
