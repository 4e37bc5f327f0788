"""One process of the validation bench: a validation pod's share, or `ferry run`'s in-process validation.

    PYTHONPATH=tests:operator python -m bench.validation_pod BUNDLE INDEX COUNT RUN   # a pod's share
    PYTHONPATH=tests:operator python -m bench.validation_pod BUNDLE local             # in process

Prints one JSON line: the seconds spent comparing (after start-up), and what was compared.
"""

from __future__ import annotations

import json
import sys
import time

from ferry.api.migration import ValidationSpec
from ferry.cli.bundle import load_bundle
from ferry.services.effective import effective_spec
from ferry.services.validation import validate_migration, validate_share


def main(argv: list[str]) -> int:
    bundle = load_bundle(argv[0])
    name, spec = bundle.migration(None)
    spec, _ = effective_spec(spec, bundle.governance().defaults, bundle.governance().policy)
    spec = spec.model_copy(update={"validation": ValidationSpec(row_count=True, checksum=True)})
    source, target = bundle.sides(spec)
    uid = f"local/{name}"
    start = time.perf_counter()
    if argv[1] == "local":
        report = validate_migration(spec, source, target, migration_uid=uid, secrets=bundle.secrets)
        out = {"ok": report.ok, "summary": report.summary}
    else:
        index, count, run = int(argv[1]), int(argv[2]), int(argv[3])
        compared, share = validate_share(spec, source, target, migration_uid=uid, run=run, index=index,
                                         count=count, secrets=bundle.secrets)  # fmt: skip
        out = {"ranges": share, "compared": compared}
    print(json.dumps({**out, "seconds": time.perf_counter() - start}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
