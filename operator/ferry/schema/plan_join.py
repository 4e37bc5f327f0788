"""One plan out of the plans of several schema pairs (`source.schemas`).

Each pair is reflected and planned on its own (its CREATE SCHEMA, tables, objects, warnings);
the joined plan orders all their operations as one plan orders its own (every pre-data
operation of every schema before the load, post-data after), and hashes over the pairs'
schema hashes in order, so a change in any of the schemas changes the plan hash. One pair is
returned as it is: a Migration without `source.schemas` keeps the hash it always had.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

from ferry.schema.plan import Plan, order_operations, plan_hash


def join_plans(plans: Sequence[Plan], labels: Sequence[str]) -> Plan:
    """`labels` name each plan's source schema; warnings and errors are prefixed with it."""
    if len(plans) == 1:
        return plans[0]
    if not plans:
        raise ValueError("no plan to join")
    modes = {p.mode for p in plans}
    assert len(modes) == 1, f"schema pairs planned in different modes: {modes}"
    source_hash = _combined(p.source_hash for p in plans)
    target_hash = _combined(p.target_hash for p in plans)
    operations = order_operations(op for p in plans for op in p.operations)
    return Plan(
        operations=operations,
        warnings=tuple(
            f"schema {label}: {w}" for p, label in zip(plans, labels, strict=True) for w in p.warnings
        ),
        errors=tuple(
            f"schema {label}: {e}" for p, label in zip(plans, labels, strict=True) for e in p.errors
        ),
        source_hash=source_hash,
        target_hash=target_hash,
        mode=plans[0].mode,
        hash=plan_hash(source_hash, target_hash, operations),
    )


def _combined(hashes: Iterable[str]) -> str:
    joined = ",".join(hashes)
    return hashlib.sha256(joined.encode()).hexdigest()
