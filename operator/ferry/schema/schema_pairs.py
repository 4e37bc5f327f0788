"""Which source schema goes to which target schema: one pair, or one per `source.schemas` entry.

A Migration with `source.schema` (or none) is one pair, planned exactly as before. With
`source.schemas` each listed schema is a pair of its own, its target the schema of the same
name unless `target.schemaMapping` names another; the planner reflects and plans each pair and
joins the plans (ferry.services.planning). Several schemas are a PostgreSQL feature on both
sides: a MySQL/MariaDB "schema" is a database, and SQLite has one.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from ferry.api.migration import MigrationSpec
from ferry.schema.selection import SelectionError


@dataclass(frozen=True)
class SchemaPair:
    source: str | None  # None: the source connection's default schema
    target: str | None  # None: the target connection's default schema


def _refused_combinations(spec: MigrationSpec) -> str | None:
    """The apiserver's CEL rules of the endpoints, for `ferry run`, which no apiserver checks."""
    source, target = spec.source, spec.target
    if source.schemas and source.schema_:
        return "use either source.schema or source.schemas, not both"
    if source.schemas and target.schema_:
        return (
            "with source.schemas each table keeps its schema's name on the target; rename schemas "
            "with target.schemaMapping instead of target.schema"
        )
    unlisted = sorted(set(target.schema_mapping) - set(source.schemas or ()))
    if unlisted:
        return f"target.schemaMapping names {', '.join(unlisted)}, which source.schemas does not list"
    return None


def schema_pairs(spec: MigrationSpec) -> list[SchemaPair]:
    """The pairs in the order `source.schemas` lists them (one pair without it)."""
    refused = _refused_combinations(spec)
    if refused:
        raise SelectionError(refused)
    if not spec.source.schemas:
        return [SchemaPair(spec.source.schema_, spec.target.schema_)]
    mapping = spec.target.schema_mapping
    pairs = [SchemaPair(name, mapping.get(name, name)) for name in spec.source.schemas]
    shared = sorted(str(name) for name, n in Counter(p.target for p in pairs).items() if n > 1)
    if shared:
        sources = ", ".join(p.source or "" for p in pairs if p.target in shared)
        raise SelectionError(
            f"source schemas {sources} would all go to target schema {', '.join(map(str, shared))}: "
            "give each its own target schema in target.schemaMapping"
        )
    return pairs


def several(spec: MigrationSpec) -> bool:
    """Whether the Migration lists source.schemas (tables are then named schema.table)."""
    return bool(spec.source.schemas)


def check_dialects(spec: MigrationSpec, source_dialect: str, target_dialect: str) -> None:
    """Several schemas need PostgreSQL on both sides: refuse the others with the way out."""
    if several(spec) and not source_dialect == target_dialect == "postgresql":
        raise SelectionError(
            "several schemas need a PostgreSQL source and target (source.schemas); the source is "
            f"{source_dialect} and the target {target_dialect}: make one Migration per "
            "database with source.schema"
        )
