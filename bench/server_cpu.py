"""CPU seconds the database servers spent, read from /proc: where a method's time went.

On two cores the servers, not the copy tool, are often the limit (MariaDB formatting rows,
PostgreSQL parsing COPY data and building keys). PostgreSQL: the postmaster's own and reaped
children's time plus every live child (backends of the method, checkpointer, WAL writer).
MariaDB is one process with threads.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from bench.servers import Servers

TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _cpu(pid: int, with_reaped_children: bool = False) -> float:
    # Fields after the command: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14).
    f = _stat(pid)
    ticks = int(f[11]) + int(f[12]) + ((int(f[13]) + int(f[14])) if with_reaped_children else 0)
    return ticks / TICK


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int(_stat(int(entry.name))[1]) == pid:
                    out.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                continue  # gone meanwhile
    return out


def _postgres(pid: int) -> float:
    total = _cpu(pid, with_reaped_children=True)
    for child in _children(pid):
        try:
            total += _cpu(child)
        except OSError:
            continue
    return total


def server_cpu(servers: Servers) -> dict[str, float]:
    """Cumulative CPU seconds per server; the difference over a method is what it cost them."""
    out: dict[str, float] = {}
    if servers.pg.process is not None:
        out["postgresql"] = _postgres(servers.pg.process.pid)
    if servers.maria is not None and servers.maria.process is not None:
        out["mariadb"] = _cpu(servers.maria.process.pid)
    return out


def cpu_spent(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """What each process spent between two readings (of server_cpu or the like)."""
    return {name: round(after[name] - before.get(name, 0.0), 1) for name in after}


def wait_until_idle(
    servers: Servers, window: float = 2.0, busy: float = 0.05, timeout: float = 900.0
) -> float:
    """Wait until no server spends more than `busy` of a core over `window` seconds; the seconds
    waited. After a dataset load a server may keep working (writing the loaded pages out,
    autovacuum reading the new tables), and that work, counted in whatever runs next, is the
    load's, not the method's. Gives up after `timeout` and measures anyway."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        before = server_cpu(servers)
        time.sleep(window)
        spent = cpu_spent(before, server_cpu(servers))
        if all(seconds <= busy * window for seconds in spent.values()):
            break
    return time.monotonic() - start
