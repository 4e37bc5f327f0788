"""`/healthz` of an operator replica that waits for the leader-election lease.

kopf serves the liveness endpoint only while it runs, and a standby does not run kopf. Without
an answer, the kubelet would restart a healthy standby forever and a rolling update would never
see the new pod Ready. So the standby answers on the same port itself, and closes the port just
before kopf opens it on becoming the leader: one port, one probe definition, and the leader's
health stays kopf's own (its event loop and probe handlers), not a thread that answers whatever
kopf does.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

_BODY = b'{"leaderElection": "standby"}\n'


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        found = self.path.split("?", 1)[0] == "/healthz"
        body = _BODY if found else b"not found\n"
        self.send_response(200 if found else 404)
        self.send_header("Content-Type", "application/json" if found else "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # a probe every few seconds: no log
        pass


class StandbyHealth:
    """Serves `GET /healthz` (200) from a daemon thread until `stop()`."""

    # The kubelet probes the pod IP; the NetworkPolicy, not the bind address, limits who connects.
    def __init__(self, port: int, addr: str = "0.0.0.0") -> None:  # noqa: S104
        self._server = ThreadingHTTPServer((addr, port), _Handler)  # SO_REUSEADDR: kopf rebinds at once
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="standby-healthz", daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def start(self) -> StandbyHealth:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop answering and release the port (kopf binds it next)."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join()
