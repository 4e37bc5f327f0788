"""copy.throttle: the limiter's schedule (on a fake clock), the worker's share, byte metering,
and the effective limits a Project's defaults and maxima give."""

from __future__ import annotations

import asyncio

import pytest

from ferry.api.migration import MigrationSpec
from ferry.api.project import ProjectDefaults, ProjectPolicy
from ferry.copy.batch import CopyBytes, RowChunks
from ferry.copy.throttle import ByteMeter, RateLimiter, metered, worker_share
from ferry.services.effective import effective_spec
from ferry.services.policy import policy_violations


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds


def _copy(limiter: RateLimiter, time: FakeTime, batches: list[tuple[int, int]], work: float) -> float:
    """Spend each (rows, bytes) batch, each taking `work` seconds to copy; returns the elapsed time."""

    async def run() -> None:
        for rows, nbytes in batches:
            time.now += work
            await limiter.spend(rows, nbytes)

    asyncio.run(run())
    return time.now


def test_rows_per_second_holds_on_average_with_a_one_second_burst() -> None:
    time = FakeTime()
    limiter = RateLimiter(1000, None, clock=time.clock, sleep=time.sleep)
    elapsed = _copy(limiter, time, [(1000, 0)] * 20, work=0.01)
    assert 20_000 / elapsed <= 1000 * 20 / 19  # at most one second of burst over the whole copy
    assert limiter.waited_seconds == pytest.approx(elapsed - 20 * 0.01)


def test_the_slower_of_rows_and_bytes_decides() -> None:
    time = FakeTime()
    limiter = RateLimiter(1_000_000, 1 << 20, clock=time.clock, sleep=time.sleep)  # 1 MiB/s
    elapsed = _copy(limiter, time, [(100, 1 << 20)] * 10, work=0.0)
    assert elapsed == pytest.approx(9.0)  # 10 MiB at 1 MiB/s, less the one-second burst


def test_a_copy_slower_than_the_limit_is_never_held_back() -> None:
    time = FakeTime()
    limiter = RateLimiter(1000, None, clock=time.clock, sleep=time.sleep)
    _copy(limiter, time, [(100, 0)] * 10, work=1.0)  # 100 rows/s, far below 1000
    assert limiter.waited_seconds == 0


def test_each_worker_takes_its_share() -> None:
    assert worker_share(9000, 3) == 3000
    assert worker_share(None, 3) is None


def test_metering_counts_raw_bytes_and_value_sizes() -> None:
    async def chunks() -> list[bytes]:
        return [b"abc", b"defgh"]

    async def raw() -> object:
        for chunk in await chunks():
            yield chunk

    async def rows() -> object:
        yield [("ab", 1, None, b"xyz")]
        yield [("é", 2.5, None, None)]

    async def drain(payload: CopyBytes | RowChunks) -> None:
        async for _ in payload.chunks:
            pass

    meter = ByteMeter()
    asyncio.run(drain(metered(CopyBytes(raw(), "text"), meter)))  # type: ignore[arg-type]
    assert meter.bytes == 8
    meter = ByteMeter()
    asyncio.run(drain(metered(RowChunks(rows()), meter)))  # type: ignore[arg-type]
    assert meter.bytes == 2 + 8 + 3 + 2 + 8  # "é" is two bytes of UTF-8


def _spec(**copy: object) -> MigrationSpec:
    return MigrationSpec.model_validate(
        {"source": {"connectionRef": {"name": "s"}}, "target": {"connectionRef": {"name": "t"}}, "copy": copy}
    )


def test_a_project_maximum_bounds_a_migration_that_sets_none_and_refuses_one_above_it() -> None:
    policy = ProjectPolicy(max_rows_per_second=5000)
    spec, effective = effective_spec(_spec(), ProjectDefaults(), policy)
    assert effective.rows_per_second == 5000 and "copy.throttle" in effective.from_project
    assert spec.copy_.throttle.rows_per_second == 5000
    assert policy_violations(spec, policy, 2) == []

    spec, _ = effective_spec(_spec(throttle={"rowsPerSecond": 9000}), ProjectDefaults(), policy)
    assert policy_violations(spec, policy, 2) == [
        "copy.throttle.rowsPerSecond 9000 exceeds the project's maximum 5000"
    ]
    defaults = ProjectDefaults.model_validate({"throttle": {"rowsPerSecond": 100}})
    _, effective = effective_spec(_spec(), defaults, policy)
    assert effective.rows_per_second == 100
