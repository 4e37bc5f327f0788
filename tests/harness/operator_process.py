"""`ferry operator` as a subprocess of the tests, against the test control plane.

A real process (not an in-process kopf task) so tests can kill it hard, restart it, and read
everything it printed when scanning for leaked secrets.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

OPERATOR_ARGV = (sys.executable, "-m", "ferry.cli.main", "operator", "--all-namespaces")


class OperatorProcess:
    """Start, stop, kill and restart the operator; its output (all runs) goes to `log_path`."""

    def __init__(
        self,
        kubeconfig: Path,
        log_path: Path,
        argv: Sequence[str] = OPERATOR_ARGV,
        env: Mapping[str, str] | None = None,
    ) -> None:
        self.kubeconfig = kubeconfig
        self.log_path = log_path
        self.argv = list(argv)
        self.extra_env = dict(env or {})
        self.process: subprocess.Popen[bytes] | None = None
        self.metrics_port: int | None = None  # set by whoever chose the port in argv
        self._stopped_on_purpose = False
        self.starts = 0

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def environment(self) -> dict[str, str]:
        # Nothing of the developer's own cluster may leak in: only the test kubeconfig.
        env = {k: v for k, v in os.environ.items() if not k.startswith("KUBERNETES_")}
        env["KUBECONFIG"] = str(self.kubeconfig)
        env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
        env.setdefault("FERRY_WORKER_IMAGE", "ferry:e2e")
        env.update(self.extra_env)
        return env

    def start(self) -> OperatorProcess:
        if self.running:
            raise RuntimeError("operator already running")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self.starts += 1
        self._stopped_on_purpose = False
        with self.log_path.open("ab") as log:
            log.write(f"--- harness: operator start #{self.starts} ---\n".encode())
            log.flush()
            self.process = subprocess.Popen(
                self.argv,
                env=self.environment(),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        return self

    def stop(self, timeout: float = 15) -> int | None:
        """Graceful stop (SIGTERM, as a Deployment rollout would), SIGKILL after `timeout`."""
        process = self.process
        if process is None or process.poll() is not None:
            return None if process is None else process.returncode
        self._stopped_on_purpose = True
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return process.returncode

    def kill(self) -> None:
        """SIGKILL, no chance to clean up: what a node loss or OOM kill does to the operator pod."""
        process = self.process
        if process is not None and process.poll() is None:
            self._stopped_on_purpose = True
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def restart(self, hard: bool = False) -> OperatorProcess:
        if hard:
            self.kill()
        else:
            self.stop()
        return self.start()

    def unexpected_exit(self) -> str | None:
        """If the operator died without stop()/kill() (a crash at start-up, say): why, with its log tail."""
        process = self.process
        if process is None or process.poll() is None or self._stopped_on_purpose:
            return None
        return f"operator exited with code {process.returncode}; log tail:\n{self.log_text()[-3000:]}"

    def log_text(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def wait_for_log(self, text: str, timeout: float = 30) -> None:
        """Wait until `text` appears in the log; fail early, with the log tail, if the process exits."""
        deadline = time.monotonic() + timeout
        while text not in self.log_text():
            if not self.running:
                raise RuntimeError(f"operator exited before logging {text!r}:\n{self.log_text()[-3000:]}")
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"operator did not log {text!r} in {timeout:.0f}s:\n{self.log_text()[-3000:]}"
                )
            time.sleep(0.2)
