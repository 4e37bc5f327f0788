"""`ferry run` of a Migration with `spec.mode: online`: capture, copy, follow, cut over, complete.

1. The capture opens on the source before any row is read, and its start position is recorded
   on the target (ferry.cdc.bookkeeping): a rerun resumes from what the target holds.
2. The copy runs as offline (resumable by its checkpoints), then the followed tables get their
   keys (ferry.cdc.prepare) and the follower applies every change since the start.
3. `ferry cutover` asks for the cutover through the target; once the lag allows, the follower
   applies up to the source's position at that moment and ends.
4. The target is completed as offline (foreign keys, indexes, triggers, sequences), validated,
   the capture dropped, and the outcome recorded for `ferry cutover` to report.

Ctrl-C or SIGTERM while following stops cleanly between batches (exit 1); running the same
bundle again continues from the stored position, not with a new copy. A rerun after the cutover
only completes what is left; after success it has nothing to do.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import Callable
from types import ModuleType

from rich.console import Console

from ferry.api.migration import TransformType
from ferry.cdc import bookkeeping
from ferry.cdc.apply_pg import source_dialect
from ferry.cdc.bookkeeping import Outcome, ReplicationRecord
from ferry.cdc.follower import FollowOutcome, FollowResult
from ferry.cdc.freeze import freeze_source
from ferry.cdc.native_apply import drop_subscription
from ferry.cdc.online_follow import follow_online
from ferry.cdc.prepare import keys_for_follow
from ferry.cdc.progress import FollowState
from ferry.cli.bundle import Bundle
from ferry.cli.exits import EXIT_FAILED, EXIT_OK, EXIT_REFUSED
from ferry.cli.follow_display import FollowLine
from ferry.cli.local_steps import LiveProgress, Prepared, copy_rows, summary, validate
from ferry.copy.endpoints import PgEndpoint
from ferry.observability.errors import first_line
from ferry.services.endpoints import endpoint_for
from ferry.services.planning import tables_with_checkpoints
from ferry.services.target_load import complete_target, prepare_target


def _capture() -> ModuleType:
    # Imported when a run is online: the engines (the binlog reader with them) stay out of offline runs.
    from ferry.cdc import capture

    return capture


def online_problems(prepared: Prepared) -> list[str]:
    """What keeps this migration from running online, each a sentence naming the fix."""
    if prepared.target.dialect != "postgresql":
        return [
            f"online mode needs a PostgreSQL target; {prepared.target.spec.engine} is not (use mode: offline)"
        ]
    problems = []
    if prepared.source.dialect not in ("postgresql", "mysql"):
        problems.append(
            f"online mode needs a PostgreSQL or MariaDB/MySQL source; {prepared.source.spec.engine} has no "
            "change capture in Ferry (use mode: offline)"
        )
    for mapping in prepared.mappings:
        table = mapping.qualified_source
        if not mapping.key:
            problems.append(f"{table}: no primary key or unique key of NOT NULL columns to apply changes by")
        if mapping.where:
            problems.append(
                f"{table}: a where filter cannot be followed (an update may move a row into or out of it); "
                "remove it or use mode: offline"
            )
        encrypted = [
            c.source
            for c in mapping.columns
            if c.source in mapping.key
            and c.transform is not None
            and c.transform.type == TransformType.ENCRYPT
        ]
        if encrypted:
            problems.append(
                f"{table}: key column {', '.join(encrypted)} is encrypted with a random nonce, so a change "
                "cannot find its row on the target; use hash for key columns"
            )
    return problems


def _error(message: str) -> None:
    print(message, file=sys.stderr)


def run_online(console: Console, bundle: Bundle, name: str, prepared: Prepared, progress: bool) -> int:
    problems = online_problems(prepared)
    if problems:
        _error("refused: " + "; ".join(problems))
        return EXIT_REFUSED
    try:
        record = bookkeeping.read(prepared.target, prepared.uid)
        if record is not None and record.state == Outcome.SUCCEEDED:
            console.print(f"Migration {name}: cut over at {record.cutover_position} already; nothing to do")
            return EXIT_OK
        if record is None:
            started = _start(console, prepared)
            if isinstance(started, int):
                return started
            record = started
        if record.cutover_reached_at is None:
            result = _copy_and_follow(console, bundle, name, prepared, record, progress)
            if isinstance(result, int):
                return result
            if result.outcome == FollowOutcome.STOPPED:
                console.print(f"Migration {name}: {result.message}; run it again to continue from there")
                return EXIT_FAILED
            if result.outcome == FollowOutcome.SCHEMA_CHANGED:
                bookkeeping.record_outcome(prepared.target, prepared.uid, Outcome.FAILED, result.message)
                _error(
                    f"error: {result.message}; the Migration stops here (adapt the target, then run again)"
                )
                return EXIT_FAILED
    except KeyboardInterrupt:
        _error(f"interrupted: run the bundle again to continue Migration {name}")
        return EXIT_FAILED
    except Exception as exc:
        _error(f"error: {first_line(exc)}")
        return EXIT_FAILED
    return _complete(console, bundle, name, prepared)


def _start(console: Console, prepared: Prepared) -> ReplicationRecord | int:
    """Open the capture before any row is read, and record where it starts."""
    if tables_with_checkpoints(prepared.target, prepared.uid):
        _error(
            "refused: rows were copied for this Migration without a change capture (an offline run); "
            "changes made since are unknown. Empty the target tables and drop ferry._ferry_checkpoints rows "
            f"of {prepared.uid}, or set copy.truncateTarget, to start online"
        )
        return EXIT_REFUSED
    capture = _capture()
    problems = capture.check_capture(prepared.source, prepared.mappings)
    if problems:
        _error("refused: " + "; ".join(problems))
        return EXIT_REFUSED
    start = capture.start_capture(prepared.source, prepared.mappings, prepared.uid)
    console.print(f"capture opened at {start}; changes from there on are followed after the copy")
    return bookkeeping.record_start(prepared.target, prepared.uid, start)


def _copy_and_follow(
    console: Console, bundle: Bundle, name: str, prepared: Prepared, record: ReplicationRecord, progress: bool
) -> FollowResult | int:
    spec = prepared.spec
    prepare_target(prepared.target, prepared.uid, prepared.planned, spec.copy_.truncate_target)
    live = LiveProgress(console, enabled=progress and console.is_terminal)
    results = asyncio.run(copy_rows(prepared, bundle, live))
    if not results.ok:
        summary(console, name, results, None)
        return EXIT_FAILED
    built = keys_for_follow(spec, prepared.source, prepared.target, prepared.uid)
    if built:
        console.print(
            f"built the keys changes are applied by: {', '.join(op.qualified_table for op in built)}"
        )
    freeze = (
        (lambda: console.print(freeze_source(prepared.source), highlight=False))
        if spec.cutover.freeze_source
        else None
    )
    with FollowLine(console, live=progress and console.is_terminal) as line:
        return asyncio.run(_follow(prepared, bundle, record, line, freeze))


async def _follow(
    prepared: Prepared,
    bundle: Bundle,
    record: ReplicationRecord,
    line: FollowLine,
    freeze: Callable[[], None] | None,
) -> FollowResult:
    capture = _capture()
    target = endpoint_for(prepared.target)
    assert isinstance(target, PgEndpoint)  # online_problems refused the others
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    handled = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
            handled.append(sig)
        except (ValueError, RuntimeError, NotImplementedError):  # not the main thread (tests), not POSIX
            pass

    async def should_stop() -> bool:
        return stop.is_set()

    try:
        return await follow_online(
            prepared.source, prepared.target, target, prepared.mappings, migration_uid=prepared.uid,
            method=prepared.spec.online.apply, source_dialect=source_dialect(prepared.source.dialect),
            secrets=bundle.secrets, source_position=lambda: capture.source_position(prepared.source),
            report=line, should_stop=should_stop, before_cutover=freeze,
        )  # fmt: skip
    finally:
        for sig in handled:
            loop.remove_signal_handler(sig)


def _complete(console: Console, bundle: Bundle, name: str, prepared: Prepared) -> int:
    """After the cutover: the target completed and validated as offline, the capture dropped (it
    has no use past the cutover, and a replication slot kept would hold WAL on the source), and
    the outcome recorded, where `ferry cutover` waits for it."""
    target, uid = prepared.target, prepared.uid
    bookkeeping.record_outcome(target, uid, FollowState.CUT_OVER, "completing the target")
    ok, message = False, ""
    try:
        complete_target(prepared.spec, prepared.source, target, uid)  # re-planned: the keys exist already
        report = validate(prepared, bundle)
        ok, message = report.ok, report.summary
        for check in report.tables:
            mark = "[green]ok[/]" if check.ok else "[bold red]MISMATCH[/]"
            console.print(
                f"  {check.table}: source {check.source_rows:,} target {check.target_rows:,} {mark}"
            )
    except Exception as exc:
        message = f"completing the target failed: {first_line(exc)}"
    try:
        subscription = drop_subscription(target, uid)  # left by a native follower killed at its end
        dropped = " and ".join(d for d in (subscription, _capture().drop_capture(prepared.source, uid)) if d)
        if dropped:
            console.print(f"dropped the capture on the source: {dropped}", highlight=False)
    except Exception as exc:
        console.print(
            f"[bold yellow]warning:[/] the capture could not be dropped ({first_line(exc)}); drop it by hand"
        )
    bookkeeping.record_outcome(target, uid, Outcome.SUCCEEDED if ok else Outcome.FAILED, message)
    record = bookkeeping.read(target, uid)
    where = record.cutover_position if record is not None else None
    if ok:
        console.print(f"Migration {name}: cut over at {where}; {message}", highlight=False)
        return EXIT_OK
    _error(f"error: Migration {name} cut over at {where} but {message}")
    return EXIT_FAILED
