"""One instant query against a Prometheus-compatible HTTP API (`GET /api/v1/query`), for the
throttle guard (ferry.copy.guard).

The request runs in a thread (urllib3, already a dependency through the Kubernetes client) so the
copy's event loop never blocks on it; it is bounded by a timeout and not retried here (the guard
reads again at its next interval). Errors name the URL's host and the HTTP status, never the
bearer token.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import urllib3

TIMEOUT_SECONDS = 10.0


class PrometheusError(RuntimeError):
    """The query did not give a number: unreachable, refused, or an answer of another shape."""


def max_value(answer: dict[str, Any]) -> float | None:
    """The largest value of an instant query's answer (vector or scalar); None when it is empty."""
    if answer.get("status") != "success":
        raise PrometheusError(
            f"the query failed: {answer.get('errorType', '')} {answer.get('error', '')}".strip()
        )
    data = answer.get("data") or {}
    kind, result = data.get("resultType"), data.get("result")
    try:
        if kind == "vector":
            values = [float(sample["value"][1]) for sample in result or []]
            return max(values) if values else None
        if kind == "scalar" and isinstance(result, list):
            return float(result[1])
    except (KeyError, IndexError, TypeError, ValueError) as exc:
        raise PrometheusError(f"unexpected {kind} in the answer: {exc}") from None
    raise PrometheusError(f"the query gives a {kind}; use one that gives a vector or a scalar")


@dataclass(frozen=True)
class PrometheusQuery:
    url: str  # the server's base URL, e.g. http://prometheus.monitoring:9090
    query: str
    token: str | None = field(default=None, repr=False)  # a bearer token, from a Secret
    timeout: float = TIMEOUT_SECONDS
    _pool: Callable[[], urllib3.PoolManager] = field(default=urllib3.PoolManager, repr=False)

    def read(self) -> float | None:
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        endpoint = self.url.rstrip("/") + "/api/v1/query"
        host = urlsplit(self.url).netloc
        try:
            response = self._pool().request(
                "GET", endpoint, fields={"query": self.query}, headers=headers,
                timeout=urllib3.Timeout(total=self.timeout), retries=False,
            )  # fmt: skip
        except urllib3.exceptions.HTTPError as exc:
            raise PrometheusError(f"{host} cannot be reached: {type(exc).__name__}") from None
        if response.status != 200 and response.status != 400 and response.status != 422:
            raise PrometheusError(f"{host} answered HTTP {response.status}")
        try:
            answer = json.loads(response.data)
        except ValueError:
            raise PrometheusError(f"{host} answered HTTP {response.status} without JSON") from None
        return max_value(answer)

    async def __call__(self) -> float | None:
        return await asyncio.to_thread(self.read)
