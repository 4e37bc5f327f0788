"""The target tables the Migration asks for: source tables seen through their TableMappings.

Keys, uniques, foreign keys, indexes and checks follow their columns through renames and are
kept only when all their columns are selected (a foreign key also needs its referred table
selected). Names are kept within one dialect; across dialects the engine's default names are
used where the source's would collide (MySQL index names are per table, PostgreSQL's per schema).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field, replace

from ferry.schema.mapping import ColumnMapping, TableMapping
from ferry.schema.model import (
    CheckConstraint,
    Column,
    DatabaseSchema,
    EnumType,
    ForeignKey,
    Index,
    Table,
    UniqueConstraint,
)
from ferry.schema.typemap import map_default, map_type
from ferry.schema.typenames import canonical_type

# A check expression we can carry across dialects: column names, literals, comparisons and
# logic. Function calls and casts are not portable (MySQL's `cast(x as char charset ...)`).
_CHECK_TOKEN = re.compile(
    r"\s+|[()]|`[^`]+`|\"[^\"]+\"|\[[^\]]+\]|'(?:[^']|'')*'|-?\d+(?:\.\d+)?|<=|>=|<>|!=|[<>=,]|[A-Za-z_][A-Za-z0-9_]*"
)
_CHECK_KEYWORDS = {"and", "or", "not", "in", "between", "is", "null", "like", "true", "false"}
_INTEGER_TYPES = {"smallint", "integer", "bigint", "int", "tinyint", "mediumint"}


@dataclass
class Desired:
    tables: dict[str, Table] = field(default_factory=dict)  # by target table name
    enums: dict[str, EnumType] = field(default_factory=dict)
    notes: dict[str, list[str]] = field(default_factory=dict)  # note -> ["table.column", ...]
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def note(self, text: str, where: str) -> None:
        self.notes.setdefault(text, []).append(where)


def _portable_check(expression: str, source_dialect: str, columns: tuple[str, ...]) -> str | None:
    tokens = _CHECK_TOKEN.findall(expression)
    if "".join(tokens) != expression:
        return None
    for token in tokens:
        word = token.strip('`"[]')
        if (
            (token[0].isalpha() or token[0] in '_`"[')
            and word.lower() not in _CHECK_KEYWORDS
            and word not in columns
        ):
            return None
    out = re.sub(r"`([^`]+)`", r'"\1"', expression)
    if source_dialect == "sqlite":
        out = re.sub(r"\[([^\]]+)\]", r'"\1"', out)
    return out


def build_desired(
    source: DatabaseSchema,
    mappings: list[TableMapping],
    target_dialect: str,
    default_schema: str | None = None,
) -> Desired:
    """`default_schema` stands for a mapping's empty target schema (the connection's default), so
    tables to create and tables found on the target are named alike."""
    same = source.dialect == target_dialect
    out = Desired()
    mappings = [replace(m, target_schema=m.target_schema or default_schema) for m in mappings]
    by_source = {m.source_table: m for m in mappings}
    index_names = Counter(ix.name for t in source.tables.values() for ix in t.indexes)
    for mapping in mappings:
        table = source.tables[mapping.source_table]
        out.tables[mapping.target_table] = _table(
            source, table, mapping, by_source, target_dialect, same, index_names, out
        )
    return out


def _table(
    source: DatabaseSchema,
    table: Table,
    mapping: TableMapping,
    by_source: dict[str, TableMapping],
    target_dialect: str,
    same: bool,
    index_names: Counter[str],
    out: Desired,
) -> Table:
    rename = {c.source: c.target for c in mapping.columns}
    keep_names = same and mapping.target_table == table.name
    where = mapping.target_table
    pk = tuple(rename[c] for c in table.primary_key) if set(table.primary_key) <= set(rename) else ()
    if table.primary_key and not pk:
        out.warnings.append(f"{where}: primary key not created, some of its columns are not selected")
    columns = [_column(source, table, cm.source, cm, target_dialect, pk, out) for cm in mapping.columns]
    uniques = tuple(
        UniqueConstraint(u.name if keep_names else None, tuple(rename[c] for c in u.columns))
        for u in table.unique_constraints
        if set(u.columns) <= set(rename)
    )
    fks = []
    for fk in table.foreign_keys:
        referred = by_source.get(fk.referred_table) if fk.referred_schema is None else None
        referred_rename = {c.source: c.target for c in referred.columns} if referred else {}
        if (
            referred is None
            or not set(fk.columns) <= set(rename)
            or not set(fk.referred_columns) <= set(referred_rename)
        ):
            out.warnings.append(
                f"{where}: foreign key to {fk.referred_table} not created: "
                "its table or columns are not selected"
            )
            continue
        fks.append(
            ForeignKey(
                name=fk.name[:63] if fk.name else None,
                columns=tuple(rename[c] for c in fk.columns),
                referred_schema=None
                if referred.target_schema == mapping.target_schema
                else referred.target_schema,
                referred_table=referred.target_table,
                referred_columns=tuple(referred_rename[c] for c in fk.referred_columns),
                on_delete=fk.on_delete,
                on_update=fk.on_update,
            )
        )
    indexes = []
    for ix in table.indexes:
        if ix.expressions and not same:
            out.warnings.append(
                f"{where}: expression index {ix.name} not created (expressions do not translate)"
            )
            continue
        if not same and ix.method:
            out.warnings.append(f"{where}: {ix.method} index {ix.name} not created")
            continue
        if not ix.expressions and not set(ix.columns) <= set(rename):
            continue
        name = (
            ix.name
            if keep_names or (not same and index_names[ix.name] == 1)
            else f"{mapping.target_table}_{ix.name}"
        )
        cols = ix.columns if ix.expressions else tuple(rename[c] for c in ix.columns)
        indexes.append(
            Index(
                name[:63],
                cols,
                ix.unique,
                ix.method if same else None,
                ix.where if same else None,
                ix.expressions,
            )
        )
    checks = []
    for i, check in enumerate(table.check_constraints):
        expression = (
            check.expression
            if same
            else _portable_check(check.expression, source.dialect, table.column_names)
        )
        if expression is None:
            out.warnings.append(
                f"{where}: check constraint {check.name or ''} not created: {check.expression}"
            )
            continue
        if not same and not all(c in rename for c in _identifiers(check.expression, table)):
            continue
        checks.append(
            CheckConstraint((check.name or f"{mapping.target_table}_check_{i + 1}")[:63], expression)
        )
    return Table(
        name=mapping.target_table,
        schema=mapping.target_schema,
        columns=tuple(columns),
        primary_key=pk,
        primary_key_name=table.primary_key_name if keep_names else None,
        unique_constraints=uniques,
        foreign_keys=tuple(fks),
        indexes=tuple(indexes),
        check_constraints=tuple(checks),
        row_estimate=table.row_estimate,
    )


def _identifiers(expression: str, table: Table) -> list[str]:
    return [c for c in table.column_names if re.search(rf"(?<![\w]){re.escape(c)}(?![\w])", expression)]


def _column(
    source: DatabaseSchema,
    table: Table,
    name: str,
    cm: ColumnMapping,
    target_dialect: str,
    pk: tuple[str, ...],
    out: Desired,
) -> Column:
    src = table.column(name)
    assert src is not None
    where = f"{table.name}.{name}"
    mapped = map_type(source.dialect, target_dialect, src.type, table=table.name, column=name)
    if cm.transform is None and mapped.unsupported:
        out.errors.append(f"{where}: {mapped.note}")
    elif cm.transform is None and mapped.note:
        out.note(mapped.note, where)
    target_type = canonical_type(cm.target_type, target_dialect)
    if mapped.enum_values and target_type == mapped.type:
        out.enums[mapped.type] = EnumType(mapped.type, mapped.enum_values)
    base = target_type.removesuffix("[]")
    if source.dialect == target_dialect and base in source.enums:
        out.enums[base] = source.enums[base]
    if src.domain:
        out.note(
            "PostgreSQL domains are created as their base type (the domain's checks are not kept)", where
        )
    if src.generated:
        out.note("generated columns are created as plain columns and their values copied", where)
    default = map_default(source.dialect, target_dialect, src, target_type)
    if default.dropped:
        out.note(default.dropped, where)
    carries_value = cm.transform is None
    return Column(
        name=cm.target,
        type=target_type,
        nullable=cm.nullable and cm.target not in pk,
        default=default.expression if carries_value else None,
        autoincrement=src.autoincrement and carries_value and target_type in _INTEGER_TYPES,
    )
