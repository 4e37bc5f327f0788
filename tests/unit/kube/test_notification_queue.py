"""The notification queue's lanes: a sink gets a Migration's notices in order, retried on the
backoff; a failing sink neither holds the others nor a thread while it waits, and the condition
names it until it takes a notice again."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from kubernetes import client

from ferry.api.base import ConditionStatus
from ferry.api.project_notifications import Notification
from ferry.kube.notification_queue import Delivery, DeliveryFailed, DeliveryQueue


def _sink(name: str) -> Notification:
    return Notification.model_validate({"name": name, "webhookSecretRef": {"name": "hooks", "key": name}})


class Queue(DeliveryQueue):
    """The real lanes and retries; the HTTP call and the status write replaced by records."""

    def __init__(self, failing: set[str]) -> None:
        self.timers: list[Callable[[], None]] = []
        super().__init__(api=client.ApiClient, backoff=(1.0, 2.0), later=self._later)
        self.failing = failing
        self.posted: list[tuple[str, str]] = []
        self.conditions: list[tuple[str, str, str]] = []
        self.events: list[str] = []
        self.done = threading.Semaphore(0)

    def _later(self, delay: float, call: Callable[[], None]) -> None:
        self.timers.append(call)

    def _post(self, delivery: Delivery) -> None:
        self.posted.append((delivery.sink.name, delivery.event))
        self.done.release()
        if delivery.sink.name in self.failing:
            raise DeliveryFailed("the webhook answered HTTP 500")

    def _condition(self, delivery: Delivery, status: ConditionStatus, reason: str, message: str) -> None:
        self.conditions.append((status, reason, message))

    def _announce(self, delivery: Delivery, message: str) -> None:
        self.events.append(message)


def _wait(queue: Queue, attempts: int) -> None:
    for _ in range(attempts):
        assert queue.done.acquire(timeout=10)


def _until(check: Callable[[], bool]) -> None:
    """Wait (bounded) for the pool thread to get there; what it did is asserted after."""
    deadline = time.monotonic() + 10
    while not check() and time.monotonic() < deadline:
        time.sleep(0.01)


def _deliveries(*events: str, sink: str) -> list[Delivery]:
    body: dict[str, Any] = {}
    return [Delivery("team-a", "shop", _sink(sink), event, body) for event in events]


def test_a_failing_sink_backs_up_its_own_lane_only() -> None:
    queue = Queue(failing={"broken"})
    for delivery in _deliveries("Planning", "Running", sink="broken") + _deliveries(
        "Planning", "Running", sink="good"
    ):
        queue.submit(delivery)
    _wait(queue, 3)  # broken's first attempt and both of good's
    queue._pool.shutdown(wait=True)
    assert [e for s, e in queue.posted if s == "good"] == ["Planning", "Running"]
    assert [e for s, e in queue.posted if s == "broken"] == ["Planning"]  # waits for its retry timer
    assert len(queue.timers) == 1  # the wait holds a timer, not a thread
    status, reason, message = queue.conditions[-1]
    assert (status, reason) == ("False", "NotificationRetrying") and message.startswith(
        "notifications failing: broken"
    )


def test_a_sink_that_gives_up_is_failed_and_its_next_notice_goes_out_in_order() -> None:
    queue = Queue(failing={"broken"})
    for delivery in _deliveries("Planning", "Running", sink="broken"):
        queue.submit(delivery)
    for attempt in range(2):  # the first attempt, then two retries of the backoff
        _until(lambda n=attempt: len(queue.timers) == 1)  # type: ignore[misc]
        queue.timers.pop(0)()
    _until(lambda: len(queue.posted) == 4 and len(queue.timers) == 1)  # the lane moved on
    assert queue.posted == [("broken", "Planning")] * 3 + [("broken", "Running")]
    assert queue.events == [
        "notification broken (Planning): the webhook answered HTTP 500; gave up after 3 attempts"
    ]
    assert any(reason == "NotificationFailed" and "gave up after 3 attempts" in message
               for _, reason, message in queue.conditions)  # fmt: skip
    queue.failing.clear()
    queue.timers.pop(0)()
    _until(lambda: queue.conditions[-1][0] == "True")
    queue._pool.shutdown(wait=True)
    assert queue.conditions[-1][:2] == ("True", "Delivered")
