"""Deliver notifications off the reconcile path: retried with backoff, never blocking a reconcile,
failures shown as the Migration's `NotificationsDelivered` condition (and a Warning event).

The reconcile only submits a `Delivery` to a small thread pool and returns. A pool thread reads
the webhook URL (and the signing key) from the namespace's Secrets, registers them for redaction
(a webhook URL carries its own token), signs the exact body bytes when a key is set
(`X-Ferry-Signature: sha256=<hex HMAC-SHA256>`, ferry.kube.webhook_signing) and POSTs it: at most
`len(BACKOFF) + 1` attempts, each bounded by a 3 s connect and 5 s read timeout, with 1, 2, 4 …
32 s between them, on a connection error, a timeout or any non-2xx answer. Each (Migration,
sink) pair is a lane: its notices go out in order, one at a time, and a receiver that fails or
hangs backs up its own lane only (other sinks and Migrations go on); the wait between attempts
holds no thread. The Migration is never held at all.

The condition sums up the Migration's sinks: `False` while any of them fails (reason
`NotificationRetrying`, or `NotificationFailed` once one gave up, which also posts a Warning
event), the message naming each failing sink and why; `True` (`Delivered`) once they all took a
notice again. A success with no failure before writes nothing, so quiet sinks cost no API write.
The write is a status patch of `conditions` guarded by the object's resourceVersion (a conflict
reads again), made only when the condition differs, so it never overwrites what the reconciler
wrote meanwhile and each attempt puts it back if a reconcile dropped it. Messages name the
notification and why (HTTP status, error class), never the URL or the key. The state lives in
the operator's memory: after a restart the condition heals at the next delivery.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import urllib3
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from ferry.api import conditions as c
from ferry.api.base import ConditionStatus
from ferry.api.kinds import GROUP, MIGRATION, VERSION
from ferry.api.migration import MigrationStatus
from ferry.api.project_notifications import Notification
from ferry.db.credentials import SecretError
from ferry.kube.client import shared_api_client
from ferry.kube.events import post_event
from ferry.kube.secrets import KubeSecretSource
from ferry.kube.webhook_signing import SIGNATURE_HEADER, signature
from ferry.observability.logging import get_logger
from ferry.observability.redaction import register_secret

BACKOFF = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0)
TIMEOUT = urllib3.Timeout(connect=3.0, read=5.0)
POOL_THREADS = 8
LANE_LIMIT = 100  # notices queued per (Migration, sink) before the oldest are dropped

log = get_logger("ferry.notifications")
_HTTP = urllib3.PoolManager(retries=False, timeout=TIMEOUT)


@dataclass(frozen=True)
class Delivery:
    namespace: str
    migration: str  # the Migration the notice is about: its condition shows a failure
    sink: Notification
    event: str
    body: dict[str, Any]
    content_type: str = "application/json"


class DeliveryFailed(Exception):
    """One attempt failed; the message is safe to show (no URL, no key)."""


Lane = tuple[str, str, str]  # (namespace, migration, sink name): notices in order, one at a time


def _later(delay: float, call: Callable[[], None]) -> None:
    timer = threading.Timer(delay, call)
    timer.daemon = True
    timer.start()


@dataclass
class DeliveryQueue:
    """One lane per (Migration, sink): a sink gets a Migration's notices in order, and a sink that
    fails or hangs backs up only its own lane. Waiting for a retry holds no thread (a timer
    resubmits the attempt), so the pool's threads only ever wait on a request in flight."""

    api: Callable[[], client.ApiClient]
    backoff: tuple[float, ...] = BACKOFF
    later: Callable[[float, Callable[[], None]], None] = _later
    _pool: ThreadPoolExecutor = field(
        default_factory=lambda: ThreadPoolExecutor(POOL_THREADS, thread_name_prefix="ferry-notify")
    )
    _lock: threading.Lock = field(default_factory=threading.Lock)  # the lanes
    _status_lock: threading.Lock = field(default_factory=threading.Lock)  # the condition's writer
    _lanes: dict[Lane, deque[Delivery]] = field(default_factory=dict)
    # (namespace, migration) -> sink -> (why, gave up): what the condition shows
    _failing: dict[tuple[str, str], dict[str, tuple[str, bool]]] = field(default_factory=dict)

    def submit(self, delivery: Delivery) -> None:
        """Queue one delivery and return at once."""
        lane = (delivery.namespace, delivery.migration, delivery.sink.name)
        with self._lock:
            queued = self._lanes.setdefault(lane, deque())
            if len(queued) >= LANE_LIMIT:  # a sink gone for good: drop the oldest waiting notice
                dropped = queued[1]  # [0] is in flight
                del queued[1]
                log.warning(
                    "notification dropped: the sink's queue is full", sink=lane[2], event=dropped.event
                )
            queued.append(delivery)
            if len(queued) == 1:
                self._pool.submit(self._attempt, lane, 0)

    def _next(self, lane: Lane) -> None:
        with self._lock:
            queued = self._lanes[lane]
            queued.popleft()
            if queued:
                self._pool.submit(self._attempt, lane, 0)
            else:
                del self._lanes[lane]

    def _attempt(self, lane: Lane, attempt: int) -> None:
        with self._lock:
            delivery = self._lanes[lane][0]
        name = delivery.sink.name
        try:
            self._post(delivery)
        except DeliveryFailed as exc:
            why = f"{name} ({delivery.event}): {exc}"
            if attempt == len(self.backoff):
                gave_up = f"{why}; gave up after {attempt + 1} attempts"
                self._record(delivery, gave_up, final=True)
                self._announce(delivery, f"notification {gave_up}")
                self._next(lane)
                return
            self._record(delivery, f"{why}; retrying with backoff", final=False)
            log.info("notification attempt failed", sink=name, attempt=attempt + 1, error=str(exc))
            self.later(self.backoff[attempt], lambda: self._resubmit(lane, attempt + 1))
            return
        except Exception as exc:  # a bug must not stop the lane silently
            log.warning("notification delivery crashed", sink=name, error=type(exc).__name__)
            self._next(lane)
            return
        self._record(delivery, None, final=True)
        self._next(lane)

    def _announce(self, delivery: Delivery, message: str) -> None:
        """A Warning event on the Migration; never stops the lane."""
        try:
            post_event(self.api(), _involved(delivery), "Warning", c.NOTIFICATION_FAILED, message)
        except Exception as exc:
            log.warning("notification event not posted", error=type(exc).__name__)

    def _resubmit(self, lane: Lane, attempt: int) -> None:
        self._pool.submit(self._attempt, lane, attempt)

    def _record(self, delivery: Delivery, failure: str | None, *, final: bool) -> None:
        """Keep this sink's state for the Migration and write the condition when it changed."""
        key = (delivery.namespace, delivery.migration)
        with self._status_lock:
            failing = self._failing.setdefault(key, {})
            had_failures = bool(failing)
            if failure is None:
                failing.pop(delivery.sink.name, None)
            else:
                failing[delivery.sink.name] = (failure, final)
            if not failing:
                self._failing.pop(key, None)
                if had_failures:
                    self._condition(
                        delivery, "True", c.DELIVERED, "every notification sink took the last notice"
                    )
                return
            gave_up = any(final for _, final in failing.values())
            reason = c.NOTIFICATION_FAILED if gave_up else c.NOTIFICATION_RETRYING
            message = "; ".join(why for why, _ in sorted(failing.values()))
            self._condition(delivery, "False", reason, f"notifications failing: {message}")

    def _post(self, delivery: Delivery) -> None:
        api = self.api()
        secrets = KubeSecretSource(client.CoreV1Api(api), delivery.namespace)
        ref, key_ref = delivery.sink.webhook_secret_ref, delivery.sink.signing_key_secret_ref
        try:
            url = secrets.get(ref.name, ref.key)
            key = secrets.get(key_ref.name, key_ref.key) if key_ref is not None else None
        except (SecretError, ApiException) as exc:
            raise DeliveryFailed(f"a Secret it needs cannot be read ({type(exc).__name__})") from None
        register_secret(url)
        body = json.dumps(delivery.body, separators=(",", ":")).encode()
        headers = {"Content-Type": delivery.content_type}
        if key:
            register_secret(key)
            headers[SIGNATURE_HEADER] = signature(body, key)
        try:
            response = _HTTP.request("POST", url, body=body, headers=headers)
        except urllib3.exceptions.HTTPError as exc:
            raise DeliveryFailed(type(exc).__name__) from None
        if not 200 <= response.status < 300:
            raise DeliveryFailed(f"the webhook answered HTTP {response.status}")

    def _status(self, delivery: Delivery) -> tuple[str, MigrationStatus] | None:
        try:
            obj = client.CustomObjectsApi(self.api()).get_namespaced_custom_object(
                GROUP, VERSION, delivery.namespace, MIGRATION.plural, delivery.migration
            )
        except ApiException:
            return None
        return obj["metadata"]["resourceVersion"], MigrationStatus.model_validate(obj.get("status") or {})

    def _condition(self, delivery: Delivery, status: ConditionStatus, reason: str, message: str) -> None:
        """Set NotificationsDelivered on the Migration (optimistic locking; a few tries). The caller
        holds the lock: one writer of this condition per process at a time."""
        for _ in range(3):
            current = self._status(delivery)
            if current is None:
                return  # deleted meanwhile
            version, st = current
            now = st.condition(c.NOTIFICATIONS_DELIVERED)
            if now is not None and (now.status, now.reason, now.message) == (status, reason, message):
                return
            st.set_condition(c.NOTIFICATIONS_DELIVERED, status, reason, message, st.observed_generation or 0)
            patch = {
                "metadata": {"resourceVersion": version},
                "status": {"conditions": st.to_wire()["conditions"]},
            }
            try:
                client.CustomObjectsApi(self.api()).patch_namespaced_custom_object_status(
                    GROUP, VERSION, delivery.namespace, MIGRATION.plural, delivery.migration, patch
                )
                return
            except ApiException as exc:
                if exc.status != 409:
                    log.warning("notification condition not written", status=exc.status)
                    return


def _involved(delivery: Delivery) -> dict[str, Any]:
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": MIGRATION.kind, "name": delivery.migration,
            "namespace": delivery.namespace}  # fmt: skip


DELIVERIES = DeliveryQueue(shared_api_client)  # the operator's one queue (its pool starts idle)
