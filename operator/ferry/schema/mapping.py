"""What moves where: the bridge from the schema engine to the copy engine.

`ferry.schema.selection` turns a source schema plus a MigrationSpec (table globs,
renames, column selection, transforms, castTo) into TableMappings; the diff compares
their target side with the target database, and the copy engine reads rows by them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from ferry.api.migration import Transform


@dataclass(frozen=True)
class ColumnMapping:
    source: str  # column name on the source
    target: str  # column name on the target (after rename)
    source_type: str  # normalized source type text, e.g. "bigint", "varchar(80)", "numeric(12,2)"
    target_type: str  # target type text in the target dialect, after type mapping and castTo
    nullable: bool
    transform: Transform | None = None
    generated: str | None = None  # the target's generation expression (only in TableMapping.generated)
    # MySQL/MariaDB into PostgreSQL, zeroDates: error: a zero date fails the batch instead of
    # becoming NULL (ferry.copy.mysql_values), and the column keeps NOT NULL.
    zero_dates_error: bool = False


@dataclass(frozen=True)
class TableMapping:
    source_schema: str | None
    source_table: str
    target_schema: str | None
    target_table: str
    columns: tuple[ColumnMapping, ...]
    key: tuple[str, ...]  # source names of the columns of a usable unique key; () when none
    where: str | None = None
    row_estimate: int = 0
    source_only: bool = False  # PostgreSQL: read `FROM ONLY` the table (not its inheritance children)
    # Columns PostgreSQL computes (a MySQL generated column whose expression translated,
    # ferry.schema.mysql_generated): created on the target, never read or written by the copy.
    generated: tuple[ColumnMapping, ...] = ()

    def fingerprint(self) -> dict[str, Any]:
        """What decides the rows written: tables, columns and their types, renames, transforms
        (their settings and the Secret they name, never a key's value), zeroDates: error, the
        filter and the key. Not the row estimate, which drifts without any change."""

        def column(c: ColumnMapping) -> dict[str, Any]:
            transform = c.transform.model_dump(mode="json", by_alias=True) if c.transform else None
            out = {"source": c.source, "target": c.target, "sourceType": c.source_type,
                   "targetType": c.target_type, "nullable": c.nullable, "transform": transform}  # fmt: skip
            if c.zero_dates_error:  # only when set: the hashes of existing plans stay as they were
                out["zeroDates"] = "error"
            return out

        return {
            "source": self.qualified_source,
            "target": self.qualified_target,
            "columns": [column(c) for c in self.columns],
            "generated": [column(c) for c in self.generated],
            "key": list(self.key),
            "where": self.where,
            "sourceOnly": self.source_only,
        }

    @property
    def qualified_source(self) -> str:
        return f"{self.source_schema}.{self.source_table}" if self.source_schema else self.source_table

    @property
    def qualified_target(self) -> str:
        return f"{self.target_schema}.{self.target_table}" if self.target_schema else self.target_table


def schema_renames(mappings: Iterable[TableMapping]) -> dict[str, str]:
    """Source schema -> target schema, of the mappings that name both (PostgreSQL's
    `source.schemas` with `target.schemaMapping`): what a carried definition's qualifiers of
    another listed schema become (ferry.schema.pg_retarget)."""
    return {m.source_schema: m.target_schema for m in mappings if m.source_schema and m.target_schema}
