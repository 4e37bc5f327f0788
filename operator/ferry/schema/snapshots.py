"""Normalised schema snapshots of both sides of a plan, and what changed since one was taken.

A snapshot is `DatabaseSchema.to_dict(with_estimates=False)` — the structure the plan hash
covers, without row estimates, server version or roles — with its sha256 (`DatabaseSchema.hash`,
the plan's `sourceSchemaHash`/`targetSchemaHash`). The operator keeps them with the plan
(ferry.kube.plan_configmap) and copies them into the run report, so `kubectl ferry diff` can
say how the databases moved away from what the approved plan was made from. Names only: a
schema holds no row value (defaults and check expressions are DDL, not data).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ferry.schema.model import DatabaseSchema

SNAPSHOT_VERSION = 1


def snapshot(schema: DatabaseSchema) -> dict[str, Any]:
    return {"schema": schema.schema, "dialect": schema.dialect, "hash": schema.hash(),
            "normalized": schema.to_dict(with_estimates=False)}  # fmt: skip


def snapshots(pairs: Iterable[tuple[DatabaseSchema, DatabaseSchema]]) -> dict[str, Any]:
    """{"source": [...], "target": [...]}, one snapshot per schema pair of the Migration."""
    listed = list(pairs)
    return {"version": SNAPSHOT_VERSION, "source": [snapshot(s) for s, _ in listed],
            "target": [snapshot(t) for _, t in listed]}  # fmt: skip


def hashes(document: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The snapshots without their bodies: what a report always keeps, however large a schema."""
    return {side: [{"schema": s["schema"], "hash": s["hash"]} for s in document.get(side) or []]
            for side in ("source", "target")}  # fmt: skip


def _keyed(value: Any) -> Any:
    """Lists of named things (columns, indexes, constraints) as mappings by name, so a change is
    reported on the thing and not on a list position."""
    if isinstance(value, dict):
        return {k: _keyed(v) for k, v in value.items()}
    if isinstance(value, tuple):
        value = list(value)
    if isinstance(value, list) and value and all(isinstance(v, dict) and "name" in v for v in value):
        named = {str(v["name"]): _keyed(v) for v in value}
        if len(named) == len(value):
            return named
    if isinstance(value, list):
        return [_keyed(v) for v in value]
    return value


def _walk(path: str, before: Any, after: Any, out: list[str]) -> None:
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(set(before) | set(after), key=str):
            where = f"{path}.{key}" if path else str(key)
            if key not in before:
                out.append(f"added {where}")
            elif key not in after:
                out.append(f"removed {where}")
            else:
                _walk(where, before[key], after[key], out)
    elif before != after:
        out.append(f"changed {path}: {_short(before)} -> {_short(after)}")


def _short(value: Any, limit: int = 80) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def differences(before: dict[str, Any], after: dict[str, Any]) -> list[str]:
    """Every difference between two normalised schemas, one line each (`added tables.x`,
    `changed tables.t.columns.c.type: 'text' -> 'varchar(80)'`); empty when the same."""
    out: list[str] = []
    _walk("", _keyed(before), _keyed(after), out)
    return out


def compare(stored: Sequence[dict[str, Any]], current: Sequence[DatabaseSchema]) -> list[dict[str, Any]]:
    """Per schema: the stored hash, the current one, and the differences (by schema name)."""
    now = {schema.schema: schema for schema in current}
    result = []
    for kept in stored:
        schema = now.get(kept["schema"])
        if schema is None:
            result.append({"schema": kept["schema"], "storedHash": kept["hash"], "currentHash": None,
                           "differences": ["the schema was not read"]})  # fmt: skip
            continue
        current_hash = schema.hash()
        if current_hash == kept["hash"]:
            diff: list[str] = []
        elif "normalized" not in kept:  # the plan kept only the hash (the schema was too large)
            diff = ["changed: the snapshot was too large to keep, so only its hash is compared"]
        else:
            diff = differences(kept["normalized"], schema.to_dict(with_estimates=False))
        result.append({"schema": kept["schema"], "storedHash": kept["hash"], "currentHash": current_hash,
                       "differences": diff})  # fmt: skip
    return result
