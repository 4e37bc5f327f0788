"""From a discovered source schema and a MigrationSpec to the TableMappings the copy engine uses.

Applies, in order: table include/exclude globs, per-table overrides (target name, column
include/exclude/rename, where filter), the type rules, then the transforms that change the
target type (hash -> text, encrypt -> bytes, mask/constant -> text-compatible, null ->
nullable, castTo -> the given type). A MySQL/MariaDB DATE, DATETIME or TIMESTAMP column takes
its zeroDates choice (the table override's, else copy.zeroDates): null relaxes NOT NULL,
error keeps it and makes the copy fail on a zero date.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from fnmatch import fnmatchcase

from ferry.api.migration import MigrationSpec, TableOverride, Transform, TransformType, ZeroDates
from ferry.schema import mysql_generated, mysql_postgresql, mysql_target
from ferry.schema.mapping import ColumnMapping, TableMapping
from ferry.schema.model import DatabaseSchema, Table
from ferry.schema.typemap import map_type

_BYTES_TYPE = {"postgresql": "bytea", "mysql": "longblob", "sqlite": "blob"}
_TEXT_TYPE = {"postgresql": "text", "mysql": "longtext", "sqlite": "text"}
_BOUNDED_TEXT = re.compile(r"^(varchar|char|nvarchar|nchar)\((\d+)\)$")


class SelectionError(ValueError):
    """The Migration's table selection names something the source does not have."""


def _selected(name: str, include: list[str], exclude: list[str], schema: str | None = None) -> bool:
    """Whether a table is selected; with several schemas (`schema` given) a glob with a dot
    matches `schema.name`, one without matches the name in every schema."""

    def matches(glob: str) -> bool:
        return fnmatchcase(f"{schema}.{name}" if schema and "." in glob else name, glob)

    return any(matches(g) for g in include) and not any(matches(g) for g in exclude)


def transformed_type(transform: Transform | None, mapped: str, target_dialect: str) -> str:
    """The target column type once `transform` has been applied to its values."""
    if transform is None:
        return mapped
    kind = transform.type
    if kind == TransformType.HASH:
        return _TEXT_TYPE.get(target_dialect, "text")  # hex digest
    if kind == TransformType.ENCRYPT:
        return _BYTES_TYPE.get(target_dialect, "bytea")
    if kind == TransformType.CAST_TO and transform.cast_to:
        return transform.cast_to.strip()
    if kind in (TransformType.MASK, TransformType.CONSTANT):
        bounded = _BOUNDED_TEXT.match(mapped)
        if bounded:
            needed = len(transform.value or "") if kind == TransformType.CONSTANT else 0
            width = max(int(bounded.group(2)), needed)
            return f"varchar({width})" if kind == TransformType.CONSTANT else f"{bounded.group(1)}({width})"
        if mapped in ("text", "longtext", "mediumtext", "tinytext"):
            return mapped
        return _TEXT_TYPE.get(target_dialect, "text")
    return mapped  # null keeps the type; only nullability changes


def select_tables(source: DatabaseSchema, spec: MigrationSpec, target_dialect: str) -> list[TableMapping]:
    """The mappings of one schema (source.schema): overrides name tables without a schema."""
    overrides = {o.name: o for o in spec.tables.overrides}
    unknown = sorted(set(overrides) - set(source.tables))
    if unknown:
        raise SelectionError(f"tables.overrides name tables the source does not have: {', '.join(unknown)}")
    return _select(source, spec, target_dialect, overrides, spec.target.schema_, qualified=False)


def select_schemas(
    sources: Sequence[tuple[DatabaseSchema, str | None]], spec: MigrationSpec, target_dialect: str
) -> list[list[TableMapping]]:
    """The mappings of each (source schema, target schema) pair, in order. With source.schemas an
    override names `schema.table`, or a table name that only one of the schemas has."""
    if len(sources) == 1 and not spec.source.schemas:
        return [select_tables(sources[0][0], spec, target_dialect)]
    overrides = _overrides_by_schema([s for s, _ in sources], spec.tables.overrides)
    return [
        _select(source, spec, target_dialect, overrides.get(source.schema, {}), target, qualified=True)
        for source, target in sources
    ]


def _overrides_by_schema(
    sources: Sequence[DatabaseSchema], overrides: Sequence[TableOverride]
) -> dict[str | None, dict[str, TableOverride]]:
    by_schema: dict[str | None, dict[str, TableOverride]] = {}
    for override in overrides:
        schema, dot, table = override.name.rpartition(".")
        if dot:
            holders = [s for s in sources if s.schema == schema and table in s.tables]
        else:
            holders = [s for s in sources if table in s.tables]
        if not holders:
            raise SelectionError(f"tables.overrides names {override.name}, which no selected schema has")
        if len(holders) > 1:
            where = ", ".join(f"{s.schema}.{table}" for s in holders)
            raise SelectionError(
                f"tables.overrides names {override.name}, which several schemas have ({where}): "
                "qualify it with its schema"
            )
        named = by_schema.setdefault(holders[0].schema, {})
        if table in named:
            raise SelectionError(f"tables.overrides names {holders[0].schema}.{table} twice")
        named[table] = override.model_copy(update={"name": table})
    return by_schema


def _select(
    source: DatabaseSchema,
    spec: MigrationSpec,
    target_dialect: str,
    overrides: dict[str, TableOverride],
    target_schema: str | None,
    *,
    qualified: bool,
) -> list[TableMapping]:
    mappings = []
    schema = source.schema if qualified else None
    for name in sorted(source.tables):
        if not _selected(name, spec.tables.include, spec.tables.exclude, schema):
            continue
        table = source.tables[name]
        override = overrides.get(name) or TableOverride(name=name)
        mappings.append(
            _map_table(source, table, override, target_schema, target_dialect, spec.copy_.zero_dates)
        )
    return mappings


def _map_table(
    source: DatabaseSchema,
    table: Table,
    override: TableOverride,
    target_schema: str | None,
    target_dialect: str,
    zero_dates: ZeroDates = ZeroDates.NULL,
) -> TableMapping:
    selection = override.columns
    known = set(table.column_names)
    named = set(selection.include or []) | set(selection.exclude) | set(selection.rename)
    named |= {t.column for t in override.transforms} | set(override.zero_dates)
    if named - known:
        raise SelectionError(f"table {table.name}: no column named {', '.join(sorted(named - known))}")
    transforms = {t.column: t for t in override.transforms}
    _check_zero_dates(table, override, transforms)
    columns = []
    for column in table.columns:
        if selection.include is not None and column.name not in selection.include:
            continue
        if column.name in selection.exclude:
            for what, names in (("a transform", transforms), ("a zeroDates choice", override.zero_dates)):
                if column.name in names:
                    raise SelectionError(
                        f"table {table.name}: column {column.name} is excluded but has {what}"
                    )
            continue
        if column.generated and source.dialect == target_dialect == "postgresql":
            continue  # created as a generated column (ferry.schema.desired): the target computes it
        transform = transforms.get(column.name)
        mapped = map_type(source.dialect, target_dialect, column.type, table=table.name, column=column.name)
        mapped_type = mapped.type or column.type
        mysql = mysql_postgresql.applies(source.dialect, target_dialect)
        if mysql:  # keys, collations and zero dates decide too (ferry.schema.mysql_postgresql)
            mapped_type = mysql_postgresql.target_type(table, column, mapped_type)
        if mysql_target.applies(source.dialect, target_dialect):  # text in keys needs a length
            mapped_type = mysql_target.target_type(table, column, mapped_type)
        target_type = transformed_type(transform, mapped_type, target_dialect)
        zero_error = (
            mysql
            and transform is None
            and mysql_postgresql.holds_zero_dates(column.type)
            and mysql_postgresql.zero_dates_fail(column, override.zero_dates.get(column.name), zero_dates)
        )
        nullable = column.nullable or (transform is not None and transform.type == TransformType.NULL)
        nullable = nullable or (
            mysql and transform is None and mysql_postgresql.relaxes_not_null(column, zero_error)
        )
        columns.append(
            ColumnMapping(
                source=column.name,
                target=selection.rename.get(column.name, column.name),
                source_type=column.type,
                target_type=target_type,
                nullable=nullable,
                transform=transform,
                zero_dates_error=zero_error,
            )
        )
    copied, generated = _split_generated(source, table, columns, target_dialect)
    selected = {c.source for c in copied}
    return TableMapping(
        source_schema=table.schema,
        source_table=table.name,
        target_schema=target_schema,
        target_table=override.target_name or table.name,
        columns=copied,
        key=_usable_key(table, selected),
        where=override.where,
        row_estimate=table.row_estimate,
        # Read with ONLY so an inheritance parent does not return its children's rows too (they
        # are copied as tables of their own); a partitioned parent is read whole, its partitions
        # are not copied on their own.
        source_only=source.dialect == "postgresql" and not table.partitioned,
        generated=generated,
    )


def _check_zero_dates(table: Table, override: TableOverride, transforms: dict[str, Transform]) -> None:
    """A zeroDates choice names a DATE, DATETIME or TIMESTAMP column that no transform replaces
    (a transform reads the source value as it is, zero date or not)."""
    for name in sorted(override.zero_dates):
        column = table.column(name)
        assert column is not None  # unknown names were refused before
        if not mysql_postgresql.holds_zero_dates(column.type):
            raise SelectionError(
                f"table {table.name}: zeroDates names column {name} of type {column.type}, "
                "which holds no dates (only DATE, DATETIME and TIMESTAMP do)"
            )
        if name in transforms:
            raise SelectionError(
                f"table {table.name}: column {name} has a transform and a zeroDates choice; "
                "the transform reads the value as it is, so remove one of them"
            )


def _split_generated(
    source: DatabaseSchema, table: Table, columns: list[ColumnMapping], target_dialect: str
) -> tuple[tuple[ColumnMapping, ...], tuple[ColumnMapping, ...]]:
    """(copied columns, columns the target generates): MySQL generated columns whose
    expression translates to PostgreSQL are generated there, not copied."""
    if not mysql_postgresql.applies(source.dialect, target_dialect):
        return tuple(columns), ()
    rename = {c.source: c.target for c in columns}
    copied, generated = [], []
    for cm in columns:
        column = table.column(cm.source)
        if column is not None and column.generated is not None:
            translated = mysql_generated.translate(
                table, column, rename, cm.transform is not None, cm.target_type
            )
            if translated.sql is not None:
                generated.append(replace(cm, generated=translated.sql))
                continue
        copied.append(cm)
    return tuple(copied), tuple(generated)


def _usable_key(table: Table, selected: set[str]) -> tuple[str, ...]:
    """The primary key, else a unique constraint on NOT NULL columns; all of them selected."""
    if table.primary_key and set(table.primary_key) <= selected:
        return table.primary_key
    for unique in sorted(table.unique_constraints, key=lambda u: (len(u.columns), u.columns)):
        cols = [table.column(c) for c in unique.columns]
        if all(c is not None and not c.nullable for c in cols) and set(unique.columns) <= selected:
            return unique.columns
    return ()
