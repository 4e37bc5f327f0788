"""What moves where: the bridge from the schema engine to the copy engine.

`ferry.schema.selection` turns a source schema plus a MigrationSpec (table globs,
renames, column selection, transforms, castTo) into TableMappings; the diff compares
their target side with the target database, and the copy engine reads rows by them.
"""

from __future__ import annotations

from dataclasses import dataclass

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

    @property
    def qualified_source(self) -> str:
        return f"{self.source_schema}.{self.source_table}" if self.source_schema else self.source_table

    @property
    def qualified_target(self) -> str:
        return f"{self.target_schema}.{self.target_table}" if self.target_schema else self.target_table
