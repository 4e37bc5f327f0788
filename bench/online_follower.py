"""One run of Ferry's follower for the online benchmark, as a process of its own (its peak RSS is
the follower's, nothing else's).

    python -m bench.online_follower CONFIG_JSON

CONFIG_JSON: {"source": uri, "target": uri, "uid": str, "tables": [...], "stop_file": path,
"method": "ferry" | "native"} (ferry: Ferry's applier; native: PostgreSQL's subscription that
Ferry creates over its own slot and orchestrates, `ferry.cdc.online_follow`).
Follows until `stop_file` exists (the benchmark creates it once it saw its end marker on the
target), then prints one JSON line: changes applied, the lag samples the follower reported, and
the peak RSS. Timing is the benchmark's: it watches the target, the same way for native
replication.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from ferry.api.connection import DatabaseConnectionSpec
from ferry.api.migration import ApplyMethod, MigrationSpec
from ferry.cdc.capture import source_position
from ferry.cdc.online_follow import follow_online
from ferry.cdc.progress import ReplicationProgress
from ferry.copy.endpoints import PgEndpoint
from ferry.db.credentials import Credentials
from ferry.services.endpoints import endpoint_for
from ferry.services.planning import Side, source_mappings


def side(uri: str) -> Side:
    url = urlsplit(uri)
    spec = DatabaseConnectionSpec.model_validate(
        {"engine": "postgresql", "host": url.hostname, "port": url.port, "database": url.path.lstrip("/"),
         "credentialsSecretRef": {"name": "bench"}}
    )  # fmt: skip
    return Side(spec, Credentials(unquote(url.username or ""), unquote(url.password or "")))


async def run(config: dict[str, Any]) -> dict[str, Any]:
    source, target = side(config["source"]), side(config["target"])
    spec = MigrationSpec.model_validate(
        {"source": {"connectionRef": {"name": "s"}}, "target": {"connectionRef": {"name": "t"}},
         "tables": {"include": config["tables"]}, "mode": "online"}
    )  # fmt: skip
    mappings = source_mappings(spec, source, target)
    from ferry.cdc import bookkeeping

    record = bookkeeping.read(target, config["uid"])
    assert record is not None, "the capture's start is not recorded on the target"
    stop_file = Path(config["stop_file"])
    samples: list[float] = []
    before = record.changes_applied

    methods: set[str] = set()

    def report(progress: ReplicationProgress) -> None:
        methods.add(progress.apply_method)
        if progress.lag_seconds is not None:
            samples.append(progress.lag_seconds)

    async def should_stop() -> bool:
        return stop_file.exists()

    endpoint = endpoint_for(target)
    assert isinstance(endpoint, PgEndpoint)
    result = await follow_online(
        source, target, endpoint, mappings, migration_uid=config["uid"],
        method=ApplyMethod(config.get("method", "ferry")), source_dialect="postgresql", secrets=None,
        source_position=lambda: source_position(source), report=report, should_stop=should_stop,
    )  # fmt: skip
    return {
        "methods": sorted(methods),
        "changes": result.changes_applied - before,
        "lag_samples": samples,
        "peak_rss_mb": peak_rss_mb(),
    }


def peak_rss_mb() -> float:
    """This process's peak RSS: VmHWM (its own address space's high-water mark). Not getrusage's
    ru_maxrss, which Linux carries over an exec from the forking parent: it showed the benchmark's
    own ~116 MB for every follower."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # not Linux


def main() -> int:
    print(json.dumps(asyncio.run(run(json.loads(sys.argv[1])))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
