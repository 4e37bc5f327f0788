"""Connection metrics: up/down and probe latency per connection, probe failures by reason, series
gone on delete."""

from __future__ import annotations

from prometheus_client import REGISTRY

from ferry.observability.metrics import forget_connection, record_connection_probe


def sample(metric: str, **labels: str) -> float | None:
    return REGISTRY.get_sample_value(metric, labels)


def test_probe_results_and_forgetting_a_connection() -> None:
    record_connection_probe("ns-m", "pg", "postgresql", ok=True, seconds=0.02, reason="Connected")
    assert sample("ferry_connection_up", namespace="ns-m", name="pg", engine="postgresql") == 1
    probes = {"namespace": "ns-m", "name": "pg", "engine": "postgresql"}
    before = sample("ferry_connection_probe_seconds_count", **probes) or 0
    record_connection_probe("ns-m", "pg", "postgresql", ok=False, seconds=5.0, reason="Timeout")
    record_connection_probe("ns-m", "pg", "postgresql", ok=False, seconds=5.0, reason="Timeout")
    assert sample("ferry_connection_up", namespace="ns-m", name="pg", engine="postgresql") == 0
    assert sample("ferry_connection_probe_failures_total", namespace="ns-m", name="pg", reason="Timeout") == 2
    assert sample("ferry_connection_probe_seconds_count", **probes) == before + 2
    forget_connection("ns-m", "pg")
    assert sample("ferry_connection_up", namespace="ns-m", name="pg", engine="postgresql") is None
    assert sample("ferry_connection_probe_seconds_count", **probes) is None
    assert (
        sample("ferry_connection_probe_failures_total", namespace="ns-m", name="pg", reason="Timeout") is None
    )
