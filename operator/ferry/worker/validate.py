"""The validation Job's pod: compare this index's share of the key ranges and store the results.

It reads its Migration and the two connections like a copy worker (ferry.worker.setup), takes
every `count`-th key range (ferry.copy.validate_ranges), skips the ranges a failed pod of the
same run already stored, and stores each result on the target (ferry.copy.validation_store),
where the operator reads them when the Job is complete. With spec.validation.repair a range
that differs is copied again and compared again (ferry.copy.repair). It writes nothing to
the Migration's status. Exit code 0 when its share is stored, 1 when it failed (the Job
controller retries the index up to backoffLimit), 143 on SIGTERM (nothing half-stored: a
range's result is one transaction).
"""

from __future__ import annotations

import os

from ferry.observability.errors import first_line
from ferry.observability.logging import configure_logging, get_logger
from ferry.services.validation import validate_share
from ferry.worker.main import plan_refusal
from ferry.worker.setup import WorkerEnv, exit_on_sigterm, load_inputs


def run_validation(env: WorkerEnv, run: int) -> int:
    log = get_logger("ferry.worker.validate", migration=env.name, namespace=env.namespace, index=env.index)
    inputs = load_inputs(env)
    refusal = plan_refusal(os.environ.get("FERRY_PLAN_HASH", ""), inputs.plan_hash)
    if refusal is not None:
        log.error("validation refused", reason=refusal)
        return 1
    # A range in flight holds one connection per side; two at once unless a side has a
    # connection budget (maxConnections), whose share for this pod fits one (the operator sized
    # the Job as it sized the copy's).
    capped = inputs.source.spec.max_connections or inputs.target.spec.max_connections
    try:
        compared, share = validate_share(
            inputs.spec, inputs.source, inputs.target, migration_uid=env.uid, run=run,
            index=env.index, count=env.count, secrets=inputs.secrets, concurrency=1 if capped else 2,
        )  # fmt: skip
    except Exception as exc:
        log.error("validation failed", error=first_line(exc))
        return 1
    log.info("validation share stored", run=run, ranges=share, compared_now=compared)
    return 0


def main() -> int:
    configure_logging()
    exit_on_sigterm()
    return run_validation(WorkerEnv.from_environ(), int(os.environ.get("FERRY_VALIDATION_RUN", "1")))
