"""A small Prometheus-compatible HTTP endpoint for tests: `GET /api/v1/query` answers a vector
with one sample of `value` (an empty vector when None), checks a bearer token when one is set,
and records the queries it was asked. Flip `value` to move the metric across a threshold."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit


class PrometheusStub:
    def __init__(self, value: float | None = 0.0, token: str | None = None, host: str = "127.0.0.1") -> None:
        self.value = value
        self.token = token
        self.queries: list[str] = []
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                url = urlsplit(self.path)
                if url.path != "/api/v1/query":
                    self._send(404, {"status": "error", "error": "not found"})
                    return
                if stub.token is not None and self.headers.get("Authorization") != f"Bearer {stub.token}":
                    self._send(401, {"status": "error", "error": "unauthorized"})
                    return
                query = parse_qs(url.query).get("query", [""])[0]
                stub.queries.append(query)
                value = stub.value
                result = [] if value is None else [{"metric": {}, "value": [0, str(value)]}]
                self._send(200, {"status": "success", "data": {"resultType": "vector", "result": result}})

            def _send(self, code: int, body: dict[str, Any]) -> None:
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer((host, 0), Handler)
        self.url = f"http://{host}:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> PrometheusStub:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
