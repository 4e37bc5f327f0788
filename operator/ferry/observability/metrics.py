"""Prometheus metrics of the operator and the worker, all in the default registry.

Every metric is defined here, once, so that names and labels stay consistent across
controllers; each group has a small recording function so callers never touch label
plumbing. Add new groups below the existing ones.
"""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram, start_http_server

# --- DatabaseConnection ------------------------------------------------------------------

CONNECTION_UP = Gauge(
    "ferry_connection_up",
    "1 when the last probe of the DatabaseConnection succeeded, 0 when it failed.",
    ["namespace", "name", "engine"],
)
CONNECTION_PROBE_SECONDS = Histogram(
    "ferry_connection_probe_seconds",
    "Duration of DatabaseConnection probes (connect, SELECT 1, server version).",
    ["engine"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
CONNECTION_PROBE_FAILURES = Counter(
    "ferry_connection_probe_failures",
    "DatabaseConnection probes that failed, by condition reason.",
    ["namespace", "name", "reason"],
)


def record_connection_probe(
    namespace: str, name: str, engine: str, *, ok: bool, seconds: float, reason: str | None
) -> None:
    CONNECTION_UP.labels(namespace, name, engine).set(1 if ok else 0)
    CONNECTION_PROBE_SECONDS.labels(engine).observe(seconds)
    if not ok:
        CONNECTION_PROBE_FAILURES.labels(namespace, name, reason or "Unknown").inc()


def forget_connection(namespace: str, name: str) -> None:
    """Drop the series of a deleted connection, so dashboards do not show it as down forever."""
    for metric, label_index in ((CONNECTION_UP, (0, 1)), (CONNECTION_PROBE_FAILURES, (0, 1))):
        for labels in _label_sets(metric):
            if (labels[label_index[0]], labels[label_index[1]]) == (namespace, name):
                metric.remove(*labels)


def _label_sets(metric: Gauge | Counter) -> list[tuple[str, ...]]:
    # prometheus-client keeps children keyed by label tuples; there is no public iterator.
    with metric._lock:
        return [tuple(labels) for labels in metric._metrics]


# --- Serving -------------------------------------------------------------------------------


def serve_metrics(port: int, addr: str = "0.0.0.0") -> None:
    """Expose /metrics on `addr:port` from a background thread."""
    start_http_server(port, addr)
