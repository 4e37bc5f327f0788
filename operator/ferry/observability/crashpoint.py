"""Test-only crash points: make the operator SIGKILL itself at a named point.

The fault scenarios (tests/e2e/test_operator_kills.py) need the operator to die in windows
too narrow to hit by timing: right after an action on the world (a Job created, tables dropped)
and before the status that records it is written. `FERRY_TEST_CRASH_AT=<point>` in the
operator's environment makes it kill itself with SIGKILL (no cleanup, as a node loss or an OOM
kill) the first time it reaches that point. It is read at each point, costs one environment
look-up, and is never set in a real deployment (docs/operations.md names it as test-only).

Points: `job-created` (the copy Job exists, its name not yet recorded), `capture-opened` (online:
the source's slot or binlog capture exists, Running and its start position not yet recorded),
`rolled-back` (the
onFailure rollback ran, RolledBack not yet written), `delete-rolled-back` (the onDelete rollback
ran, the finalizer not yet removed).
"""

from __future__ import annotations

import os
import signal
import sys

CRASH_AT_ENV = "FERRY_TEST_CRASH_AT"
POINTS = ("job-created", "capture-opened", "rolled-back", "delete-rolled-back")


def crash_point(name: str) -> None:
    """SIGKILL this process when FERRY_TEST_CRASH_AT names this point (tests only)."""
    if os.environ.get(CRASH_AT_ENV) == name:
        sys.stderr.write(f"ferry: test crash point {name!r} reached; killing the process\n")
        sys.stderr.flush()
        os.kill(os.getpid(), signal.SIGKILL)
