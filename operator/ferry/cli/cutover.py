"""`ferry cutover -f bundle.yaml`: end an online Migration that `ferry run` follows.

The request goes through the bookkeeping row on the target (ferry.cdc.bookkeeping), where the
running follower polls it: once its lag is at most `spec.cutover.maxLagSeconds`, it applies up
to the source's position at that moment, `ferry run` completes and validates the target, and
records the outcome, which this command waits for. Exit 0 when the Migration succeeded; 1 when it
failed, is not following, or the outcome did not come within `--timeout` (the request stays: the
follower still cuts over when it can).
"""

from __future__ import annotations

import argparse
import sys
import time

from ferry.api.migration import MigrationMode
from ferry.cdc import bookkeeping
from ferry.cdc.bookkeeping import NotStarted, Outcome, ReplicationRecord
from ferry.cli.bundle import BundleError, load_bundle
from ferry.cli.exits import EXIT_FAILED, EXIT_OK, EXIT_REFUSED
from ferry.db.credentials import SecretError
from ferry.observability.errors import first_line

POLL_SECONDS = 1.0


def _line(record: ReplicationRecord) -> str:
    line = f"{record.state}: applied up to {record.applied.position}, {record.changes_applied:,} changes"
    return line + (f", cutover at {record.cutover_position}" if record.cutover_position else "")


def _outcome(record: ReplicationRecord, name: str) -> int:
    if record.state == Outcome.SUCCEEDED:
        took = ""
        if record.cutover_requested_at is not None:
            seconds = (record.updated_at - record.cutover_requested_at).total_seconds()
            took = f" {seconds:,.1f} s after the request"
        where = f" at {record.cutover_position}" if record.cutover_position else ""
        print(f"Migration {name} cut over{where}{took}: {record.message}")
        return EXIT_OK
    print(f"error: the cutover of Migration {name} failed: {record.message}", file=sys.stderr)
    return EXIT_FAILED


def cutover(args: argparse.Namespace) -> int:
    try:
        bundle = load_bundle(args.file, secrets_from_env=args.secrets_from_env)
        name, spec = bundle.migration(args.migration)
        target = bundle.side(spec.target.connection_ref.name)  # the request goes through the target only
    except (BundleError, SecretError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_FAILED
    if spec.mode != MigrationMode.ONLINE:
        print(
            f"refused: Migration {name} is not online (spec.mode: {spec.mode}); it has no cutover",
            file=sys.stderr,
        )
        return EXIT_REFUSED
    uid = f"local/{name}"  # as `ferry run` names it
    try:
        record = bookkeeping.request_cutover(target, uid, spec.cutover.max_lag_seconds)
    except NotStarted:
        print(
            f"error: Migration {name} is not following its source: run `ferry run -f {args.file}` first",
            file=sys.stderr,
        )
        return EXIT_FAILED
    except Exception as exc:
        print(f"error: cannot reach the target: {first_line(exc)}", file=sys.stderr)
        return EXIT_FAILED
    if record.ended:  # what the last run ended with; a new run resets it
        return _outcome(record, name)
    print(f"cutover requested (at a lag of at most {spec.cutover.max_lag_seconds} s); {_line(record)}")
    deadline = time.monotonic() + args.timeout
    shown = _line(record)
    while time.monotonic() < deadline:
        time.sleep(POLL_SECONDS)
        try:
            current = bookkeeping.read(target, uid)
        except Exception as exc:  # the target restarting, say: keep waiting
            print(f"warning: cannot read the target: {first_line(exc)}", file=sys.stderr)
            continue
        if current is None:
            print(f"error: Migration {name} was forgotten on the target while waiting", file=sys.stderr)
            return EXIT_FAILED
        if current.ended:
            return _outcome(current, name)
        if current.state != record.state or current.message != record.message:
            print(_line(current) + (f" ({current.message})" if current.message else ""))
            record = current
        shown = _line(current)
    print(
        f"error: no outcome after {args.timeout:,.0f} s ({shown}); the request stays and the follower "
        "cuts over when its lag allows (is `ferry run` running?)",
        file=sys.stderr,
    )
    return EXIT_FAILED
