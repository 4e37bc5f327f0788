"""copy.throttle.guard: the guard holds units while the metric is high (fake clock), reads the
query once per interval for all units, fails closed, and reads real Prometheus answers."""

from __future__ import annotations

import asyncio

import pytest

from ferry.api.migration import MigrationSpec
from ferry.api.project import ProjectDefaults
from ferry.copy.guard import BatchGuard
from ferry.copy.prometheus import PrometheusError, PrometheusQuery, max_value
from ferry.kube.worker_job import secret_keys_needed
from ferry.services.effective import effective_spec
from harness.prometheus_stub import PrometheusStub


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


class Readings:
    """The metric's values in turn (the last one repeats); counts the reads."""

    def __init__(self, *values: float | Exception | None) -> None:
        self.values, self.reads = list(values), 0

    async def __call__(self) -> float | None:
        value = self.values[min(self.reads, len(self.values) - 1)]
        self.reads += 1
        if isinstance(value, Exception):
            raise value
        return value


async def _never() -> bool:
    return False


def _guard(readings: Readings, time: FakeTime) -> BatchGuard:
    return BatchGuard(readings, threshold=5.0, interval=10.0, clock=time.clock, sleep=time.sleep)


def test_the_guard_holds_until_the_metric_falls_below_the_threshold() -> None:
    time, readings = FakeTime(), Readings(9.0, 7.0, 5.0)
    guard = _guard(readings, time)
    assert asyncio.run(guard.wait_clear(_never)) is True
    assert readings.reads == 3 and time.now == 20.0  # held for two intervals
    assert guard.pauses == 1 and not guard.paused and guard.reason is None


def test_one_reading_per_interval_serves_every_unit() -> None:
    time, readings = FakeTime(), Readings(1.0)
    guard = _guard(readings, time)

    async def units() -> None:
        await asyncio.gather(*(guard.wait_clear(_never) for _ in range(4)))
        await guard.wait_clear(_never)

    asyncio.run(units())
    assert readings.reads == 1 and guard.pauses == 0


def test_an_empty_result_is_below_and_a_failed_query_holds_with_the_error() -> None:
    time, readings = FakeTime(), Readings(None, PrometheusError("prom:9090 answered HTTP 503"), 1.0)
    guard = _guard(readings, time)
    assert asyncio.run(guard.wait_clear(_never)) and guard.pauses == 0
    time.now += 10.0
    reasons: list[str | None] = []

    async def stop_check() -> bool:
        reasons.append(guard.reason)
        return False

    assert asyncio.run(guard.wait_clear(stop_check))
    assert guard.pauses == 1 and reasons and "HTTP 503" in (reasons[0] or "")


def test_a_stopping_process_leaves_the_wait() -> None:
    time, readings = FakeTime(), Readings(50.0)

    async def stopping() -> bool:
        return True

    assert asyncio.run(_guard(readings, time).wait_clear(stopping)) is False


@pytest.mark.parametrize(
    ("answer", "value"),
    [
        ({"status": "success", "data": {"resultType": "vector", "result": []}}, None),
        ({"status": "success", "data": {"resultType": "vector", "result": [
            {"metric": {"a": "1"}, "value": [1, "2.5"]}, {"metric": {"a": "2"}, "value": [1, "7"]}]}}, 7.0),
        ({"status": "success", "data": {"resultType": "scalar", "result": [1, "3"]}}, 3.0),
    ],
)  # fmt: skip
def test_the_largest_value_of_an_answer_counts(answer: dict[str, object], value: float | None) -> None:
    assert max_value(answer) == value


def test_a_matrix_or_an_error_answer_is_named() -> None:
    with pytest.raises(PrometheusError, match="gives a matrix"):
        max_value({"status": "success", "data": {"resultType": "matrix", "result": []}})
    with pytest.raises(PrometheusError, match="bad_data"):
        max_value({"status": "error", "errorType": "bad_data", "error": "parse error"})


def test_the_query_reaches_a_prometheus_api_with_its_token() -> None:
    with PrometheusStub(value=12.5, token="s3cret") as stub:
        assert PrometheusQuery(stub.url, "replica_lag_seconds", token="s3cret").read() == 12.5
        assert stub.queries == ["replica_lag_seconds"]
        with pytest.raises(PrometheusError, match="HTTP 401") as refused:
            PrometheusQuery(stub.url, "replica_lag_seconds", token="wrong").read()
        assert "wrong" not in str(refused.value)
        stub.value = None
        assert PrometheusQuery(stub.url, "up", token="s3cret").read() is None


def test_an_unreachable_prometheus_is_an_error_naming_the_host() -> None:
    with pytest.raises(PrometheusError, match=r"127\.0\.0\.1:9 cannot be reached"):
        PrometheusQuery("http://127.0.0.1:9", "up", timeout=2).read()


def test_a_project_default_guard_runs_and_its_token_reaches_the_worker() -> None:
    spec = MigrationSpec.model_validate({
        "source": {"connectionRef": {"name": "src"}},
        "target": {"connectionRef": {"name": "dst"}},
    })  # fmt: skip
    guard = {"prometheusUrl": "http://prom:9090", "query": "lag", "threshold": 30,
             "credentialsSecretRef": {"name": "prom", "key": "token"}}  # fmt: skip
    defaults = ProjectDefaults.model_validate({"throttle": {"guard": guard}})
    effective, settings = effective_spec(spec, defaults)
    assert settings.throttle_guard is not None and settings.throttle_guard.threshold == 30
    assert "copy.throttle" in settings.from_project
    assert effective.copy_.throttle.guard == settings.throttle_guard
    from ferry.api.connection import DatabaseConnectionSpec

    conn = DatabaseConnectionSpec.model_validate(
        {"engine": "postgresql", "host": "h", "database": "d", "credentialsSecretRef": {"name": "c"}}
    )
    assert ("prom", "token") in secret_keys_needed(effective, conn, conn)
