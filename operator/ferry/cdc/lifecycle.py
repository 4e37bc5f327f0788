"""The capture's lifecycle as the operator and `ferry plan` drive it: the real `CaptureOps`.

`ferry.services.capture_ops.CaptureOps` is what the reconciler's ports and the plan call; this
is its one implementation, over `ferry.cdc.capture` (the source), `ferry.cdc.bookkeeping` (the
target) and `ferry.cdc.follower.keys_for_follow`. It lives in ferry.cdc because ferry.cdc sits
above the services (its capture takes a `services.planning.Side`): the controller and the CLI
hand it to the services, which never import ferry.cdc.

The capture's engine modules are imported on first use, so importing this module (the
controller, the CLI's parser) loads no replication driver (mysql-replication).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy

from ferry.api.migration import MigrationSpec
from ferry.cdc import bookkeeping
from ferry.cdc.names import capture_name
from ferry.cdc.prepare import keys_for_follow
from ferry.cdc.progress import FollowState
from ferry.schema.mapping import TableMapping
from ferry.services.capture_ops import CaptureHealth, FollowRecord
from ferry.services.planning import Side, engine_for

# How much change history a PostgreSQL slot holds, and whether the server still keeps it.
SLOT_HEALTH_SQL = """
SELECT wal_status, pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint AS retained
FROM pg_replication_slots WHERE slot_name = :name
"""


def _text(position: object) -> str | None:
    return None if position is None else str(position)


class CdcCaptureOps:
    """`CaptureOps` over ferry.cdc: the source's capture and the target's bookkeeping."""

    def check(self, source: Side, mappings: Sequence[TableMapping]) -> list[str]:
        from ferry.cdc import capture

        try:
            return capture.check_capture(source, mappings)
        except capture.CaptureUnsupported as exc:
            return [str(exc)]

    def start(self, source: Side, target: Side, mappings: Sequence[TableMapping], uid: str) -> str:
        from ferry.cdc import capture

        # The start recorded first is the one the follower reads from: a binlog capture opened
        # again (the operator killed before it wrote Running) returns a later position, which
        # status and the CaptureStarted event must not name instead.
        recorded = bookkeeping.record_start(target, uid, capture.start_capture(source, mappings, uid))
        return str(recorded.start)

    def prepare_follow(self, spec: MigrationSpec, source: Side, target: Side, uid: str) -> None:
        keys_for_follow(spec, source, target, uid)

    def request_cutover(self, target: Side, uid: str, max_lag_seconds: int) -> None:
        bookkeeping.request_cutover(target, uid, max_lag_seconds)

    def read(self, target: Side, uid: str) -> FollowRecord:
        record = bookkeeping.read(target, uid)
        if record is None:
            return FollowRecord()
        return FollowRecord(
            start_position=_text(record.start),
            applied_position=_text(record.applied.position),
            cutover_position=_text(record.cutover_position),
        )

    def drop(self, source: Side, target: Side, uid: str, outcome: str) -> str:
        from ferry.cdc import capture, native_apply

        # Native apply's subscription first: it holds the slot, and left behind it would retry a
        # dropped slot forever (and keep the source's password in the target's catalog).
        subscription = native_apply.drop_subscription(target, uid)
        dropped = " and ".join(d for d in (subscription, capture.drop_capture(source, uid)) if d)
        if outcome == "deleted":
            bookkeeping.forget(target, uid)
        elif outcome == "failed":
            bookkeeping.record_outcome(target, uid, bookkeeping.Outcome.FAILED, "the migration failed")
        else:  # cut over: the follower recorded it; validation follows
            bookkeeping.record_outcome(target, uid, FollowState.CUT_OVER)
        return dropped

    def health(self, source: Side, uid: str) -> CaptureHealth:
        name = capture_name(uid)
        if source.dialect != "postgresql":
            return CaptureHealth(name)  # binlog retention is the server's (expire_logs_days), not ours
        with engine_for(source) as engine, engine.connect() as conn:
            row = conn.execute(sqlalchemy.text(SLOT_HEALTH_SQL), {"name": name}).first()
        if row is None:
            return CaptureHealth(name, exists=False)
        return CaptureHealth(name, retained_bytes=None if row[1] is None else int(row[1]), wal_status=row[0])
