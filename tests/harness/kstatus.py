"""kstatus, the readiness library of Flux and kpt (sigs.k8s.io/cli-utils/pkg/kstatus/status),
run on one object through the small Go helper in tests/controlplane/kstatus.

The helper is built into .cache/kstatus once per test session with `go build` (Go's build cache
makes that a link of about half a second when nothing changed; the first build fetches the
module and takes about 20 s).
"""

from __future__ import annotations

import functools
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / ".cache" / "kstatus"


class KstatusError(RuntimeError):
    pass


@functools.cache
def binary() -> Path:
    if shutil.which("go") is None:
        raise KstatusError("go is not installed: the kstatus helper is built with Go, like the control plane")
    build = subprocess.run(
        ["bash", str(REPO / "tests" / "controlplane" / "build-kstatus.sh"), str(OUT)],
        capture_output=True,
        text=True,
        check=False,
    )
    if build.returncode != 0:
        raise KstatusError(f"building the kstatus helper failed:\n{build.stderr[-3000:]}")
    return OUT / "kstatus"


def compute(obj: dict[str, Any]) -> tuple[str, str]:
    """kstatus's status (Current, InProgress, Failed, ...) and message for `obj`."""
    done = subprocess.run(
        [str(binary())], input=json.dumps(obj), capture_output=True, text=True, check=False, timeout=30
    )
    if done.returncode != 0:
        raise KstatusError(f"kstatus failed on the object: {done.stderr.strip()}")
    result = json.loads(done.stdout)
    return str(result["status"]), str(result["message"])
