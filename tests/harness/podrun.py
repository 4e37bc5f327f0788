"""One pod the pod runner took on (`harness.podrunner`): what it runs, its log, how it ended."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class PodRun:
    """One pod the runner took on: its process, its log, and how it ended."""

    namespace: str
    name: str
    uid: str
    log_path: Path
    workdir: Path
    argv: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    image: str | None = None  # image mode: the local image it runs from
    launch: list[str] = field(default_factory=list)  # image mode: the `buildah run` command line
    process: subprocess.Popen[bytes] | None = None
    exit_code: int | None = None
    restarts: int = 0
    deleted: bool = False
    # Conditions the pod had when it was deleted that its last status keeps (DisruptionTarget).
    kept_conditions: tuple[dict[str, Any], ...] = ()
    finished: threading.Event = field(default_factory=threading.Event)

    def logs(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def signal_kill(self) -> None:
        process = self.process
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
