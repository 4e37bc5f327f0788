"""`python -m integration.copy.copy_driver CONFIG.json`: one copy run, a process the kill tests SIGKILL.

CONFIG holds the source and target `Database` fields, one table mapping and the batch size.
Prints "copying" once the first unit has opened its checkpoint, then runs to the end;
exit code 0 when every unit is done.
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

from ferry.api.migration import CopySpec
from ferry.copy import CopyJob, Endpoints, ProgressEvent, plan_units, run_units
from ferry.copy.endpoints import Endpoint
from harness.databases import Database
from integration.copy.helpers import mysql_endpoint, pg_endpoint, table_mapping


def _endpoint(fields: dict[str, Any]) -> Endpoint:
    db = Database(**fields)
    return pg_endpoint(db) if db.engine == "postgresql" else mysql_endpoint(db)


async def main(config: dict[str, Any]) -> int:
    mapping = table_mapping(
        config["table"], [tuple(c) for c in config["columns"]], config["key"], where=config.get("where")
    )
    job = CopyJob(config["uid"], Endpoints(_endpoint(config["source"]), _endpoint(config["target"])),
                  CopySpec(batch_size=config["batch_size"]))  # fmt: skip
    announced = False

    def progress(event: ProgressEvent) -> None:
        nonlocal announced
        if not announced:
            print("copying", flush=True)
            announced = True

    results = await run_units(
        job, await plan_units([mapping], job.endpoints.source, job.copy), progress=progress
    )
    for failed in results.failed:
        print(failed.error, file=sys.stderr)
    return 0 if results.ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main(json.loads(Path(sys.argv[1]).read_text()))))
