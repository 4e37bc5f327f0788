"""The target tables the Migration asks for: source tables seen through their TableMappings.

Keys, uniques, foreign keys, indexes and checks follow their columns through renames and are
kept only when all their columns are selected (a foreign key also needs its referred table
selected). Names are kept within one dialect; across dialects the engine's default names are
used where the source's would collide (MySQL index names are per table, PostgreSQL's per schema).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import TypeVar, overload

from ferry.schema import mysql_generated, mysql_postgresql, mysql_target
from ferry.schema.check_expressions import columns_named, portable_check
from ferry.schema.mapping import ColumnMapping, TableMapping, schema_renames
from ferry.schema.model import (
    CheckConstraint,
    Column,
    DatabaseSchema,
    EnumType,
    ForeignKey,
    Index,
    Sequence,
    Table,
    UniqueConstraint,
)
from ferry.schema.pg_names import pg_truncated
from ferry.schema.pg_retarget import retarget
from ferry.schema.sequences import kept_sequences, nextval_sequence, sequence_users
from ferry.schema.typemap import MappedDefault, map_default, map_type
from ferry.schema.typenames import canonical_type

_INTEGER_TYPES = {"smallint", "integer", "bigint", "int", "tinyint", "mediumint"}

T = TypeVar("T")


@dataclass
class Desired:
    tables: dict[str, Table] = field(default_factory=dict)  # by target table name
    enums: dict[str, EnumType] = field(default_factory=dict)
    sequences: dict[str, Sequence] = field(default_factory=dict)  # PostgreSQL sequences to keep as such
    notes: dict[str, list[str]] = field(default_factory=dict)  # note -> ["table.column", ...]
    warnings: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    user_types: set[str] = field(default_factory=set)  # PostgreSQL domains, composite and range types used
    # Foreign keys left out because their referred table is not selected: (table, referred
    # source table). The plan makes each an error when the target lacks that table.
    missing_references: list[tuple[str, str]] = field(default_factory=list)

    def note(self, text: str, where: str) -> None:
        self.notes.setdefault(text, []).append(where)


def build_desired(
    source: DatabaseSchema,
    mappings: list[TableMapping],
    target_dialect: str,
    default_schema: str | None = None,
    other_schemas: Iterable[TableMapping] = (),
) -> Desired:
    """`default_schema` stands for a mapping's empty target schema (the connection's default), so
    tables to create and tables found on the target are named alike. `other_schemas`: the
    mappings of the other source schemas of the Migration (source.schemas), which foreign keys
    across schemas refer to."""
    out = Desired()
    mappings = [replace(m, target_schema=m.target_schema or default_schema) for m in mappings]
    by_source = {m.source_table: m for m in mappings}
    by_source.update({m.qualified_source: m for m in other_schemas})
    index_names = Counter(ix.name for t in source.tables.values() for ix in t.indexes)
    kept = kept_sequences(source) if source.dialect == target_dialect == "postgresql" else {}
    used = sequence_users(source)
    # A sequence no column uses is the application's own (order numbers, say): it comes along.
    out.sequences.update({name: seq for name, seq in kept.items() if not used.get(name)})
    for mapping in mappings:
        table = source.tables[mapping.source_table]
        mapped = _Mapped(source, table, mapping, target_dialect, by_source, index_names, out, kept)
        out.tables[mapping.target_table] = _table(mapped)
    return out


@dataclass(frozen=True)
class _Mapped:
    """One source table seen through its mapping: what each per-object function reads."""

    source: DatabaseSchema
    table: Table  # the source table
    mapping: TableMapping
    target_dialect: str
    by_source: dict[str, TableMapping]  # every mapping, by source table (for foreign keys)
    index_names: Counter[str]  # how many source tables use each index name
    out: Desired  # collects enums, sequences, notes, warnings and errors
    kept: dict[str, Sequence]  # sequences that stay sequences (ferry.schema.sequences.kept_sequences)

    @property
    def same(self) -> bool:
        """Same dialect on both sides: index methods, predicates and check text carry over."""
        return self.source.dialect == self.target_dialect

    @property
    def keep_names(self) -> bool:
        """Constraint names are kept only within one dialect and an unrenamed table."""
        return self.same and self.mapping.target_table == self.table.name

    @cached_property
    def rename(self) -> dict[str, str]:
        """Selected source column -> target column (generated ones included)."""
        return {c.source: c.target for c in (*self.mapping.columns, *self.mapping.generated)}

    @cached_property
    def renames(self) -> bool:
        """The table or one of its columns gets another name: definitions written for the
        source (index definitions, partition keys) would not fit."""
        return self.mapping.target_table != self.table.name or any(k != v for k, v in self.rename.items())

    @property
    def where(self) -> str:
        return self.mapping.target_table

    @property
    def mysql_to_postgresql(self) -> bool:
        return mysql_postgresql.applies(self.source.dialect, self.target_dialect)

    @overload
    def retarget(self, text: str) -> str: ...
    @overload
    def retarget(self, text: None) -> None: ...
    def retarget(self, text: str | None) -> str | None:
        """Within PostgreSQL, a definition read from the source schema (defaults, generated
        columns, checks, index definitions, partition keys: discovery prints them qualified)
        naming the target schema instead (ferry.schema.pg_retarget)."""
        source, target = self.source.schema, self.mapping.target_schema
        if text is None or not self.same or self.source.dialect != "postgresql" or not source or not target:
            return text
        return retarget(text, source, target, self.schema_renames)

    @cached_property
    def schema_renames(self) -> dict[str, str]:
        """Every listed source schema's target (several schemas: a default may name another)."""
        return schema_renames(self.by_source.values())


def _table(m: _Mapped) -> Table:
    """The target table, each kind of object by its own function (in this order, so warnings
    come table by table in a stable order)."""
    pk = _primary_key(m)
    # Copied and generated columns, in the source's column order. PostgreSQL to PostgreSQL, a
    # generated column is in neither list (the copy leaves it out) and stays as the source has it.
    mapped = {cm.source: cm for cm in (*m.mapping.columns, *m.mapping.generated)}
    columns = tuple(
        _column(m, mapped[c.name], pk) if c.name in mapped else _generated(m, c)
        for c in m.table.columns
        if c.name in mapped or (c.generated and m.same)
    )
    uniques = _uniques(m)
    foreign_keys = _kept(_foreign_key(m, fk) for fk in m.table.foreign_keys)
    indexes = _kept(_index(m, ix) for ix in m.table.indexes)
    if mysql_target.applies(m.source.dialect, m.target_dialect):
        uniques, indexes = mysql_target.unique_keys(uniques, indexes)
    checks = _kept(_check(m, i, c) for i, c in enumerate(m.table.check_constraints))
    triggers = (
        mysql_postgresql.on_update_triggers(m.table, m.mapping.target_table, m.rename)
        if m.mysql_to_postgresql
        else ()
    )
    return Table(
        name=m.mapping.target_table,
        schema=m.mapping.target_schema,
        columns=columns,
        primary_key=pk,
        primary_key_name=m.table.primary_key_name if m.keep_names else None,
        unique_constraints=uniques,
        foreign_keys=foreign_keys,
        indexes=indexes,
        check_constraints=checks,
        row_estimate=m.table.row_estimate,
        triggers=triggers,
        partition_by=_partition_by(m),
    )


def _partition_by(m: _Mapped) -> str | None:
    """PostgreSQL to PostgreSQL a partitioned table stays partitioned, unless a rename would
    break its key's text; then it is created as a plain table, and said so."""
    if m.table.partition_by and m.same and m.renames:
        m.out.warnings.append(
            f"{m.where}: partitioned on the source; created as a plain table (it is renamed)"
        )
    return m.retarget(m.table.partition_by) if m.same and not m.renames else None


def _generated(m: _Mapped, src: Column) -> Column:
    """PostgreSQL to PostgreSQL: a generated column stays generated; the copy leaves it out
    (ferry.schema.selection) and the target computes it."""
    return replace(src, default=None, autoincrement=False, generated=m.retarget(src.generated))


def _kept(items: Iterable[T | None]) -> tuple[T, ...]:
    return tuple(item for item in items if item is not None)


def _primary_key(m: _Mapped) -> tuple[str, ...]:
    rename = m.rename
    if set(m.table.primary_key) <= set(rename):
        return tuple(rename[c] for c in m.table.primary_key)
    m.out.warnings.append(f"{m.where}: primary key not created, some of its columns are not selected")
    return ()


def _uniques(m: _Mapped) -> tuple[UniqueConstraint, ...]:
    rename = m.rename
    return tuple(
        UniqueConstraint(u.name if m.keep_names else None, tuple(rename[c] for c in u.columns))
        for u in m.table.unique_constraints
        if set(u.columns) <= set(rename)
    )


def _foreign_key(m: _Mapped, fk: ForeignKey) -> ForeignKey | None:
    """Kept when its columns and its referred table and columns are all selected."""
    rename = m.rename
    # A table of another schema is found by its qualified name (source.schemas lists both).
    qualified = f"{fk.referred_schema}.{fk.referred_table}" if fk.referred_schema else fk.referred_table
    referred = m.by_source.get(qualified)
    referred_rename = {c.source: c.target for c in referred.columns} if referred else {}
    if (
        referred is None
        or not set(fk.columns) <= set(rename)
        or not set(fk.referred_columns) <= set(referred_rename)
    ):
        if referred is None and fk.referred_schema is None:
            m.out.missing_references.append((m.where, fk.referred_table))
        else:
            m.out.warnings.append(
                f"{m.where}: foreign key to {fk.referred_table} not created: "
                "its table or columns are not selected"
            )
        return None
    return ForeignKey(
        name=pg_truncated(fk.name) if fk.name else None,
        columns=tuple(rename[c] for c in fk.columns),
        referred_schema=None if referred.target_schema == m.mapping.target_schema else referred.target_schema,
        referred_table=referred.target_table,
        referred_columns=tuple(referred_rename[c] for c in fk.referred_columns),
        on_delete=fk.on_delete,
        on_update=fk.on_update,
        deferrable=fk.deferrable,
        initially_deferred=fk.initially_deferred,
    )


def _index(m: _Mapped, ix: Index) -> Index | None:
    """Kept when its columns are selected; expression and access-method indexes only within one
    dialect. Across dialects a name is kept unless several source tables share it."""
    if m.mysql_to_postgresql and (ix.method or any(ix.lengths)):
        translated = mysql_postgresql.translate_index(m.table, ix, m.rename, m.out.warnings)
        if translated is None:
            return None
        columns, method, expressions = translated
        return Index(_index_name(m, ix), columns, ix.unique, method, None, expressions)
    if ix.expressions and not m.same:
        m.out.warnings.append(
            f"{m.where}: expression index {ix.name} not created (expressions do not translate)"
        )
        return None
    if not m.same and ix.method:
        m.out.warnings.append(f"{m.where}: {ix.method} index {ix.name} not created")
        return None
    rename = m.rename
    if not ix.expressions and not set(ix.columns) <= set(rename):
        return None
    cols = tuple(m.retarget(c) if ix.expressions else rename[c] for c in ix.columns)
    return Index(
        _index_name(m, ix),
        cols,
        ix.unique,
        ix.method if m.same else None,
        m.retarget(ix.where) if m.same else None,
        ix.expressions,
        definition=m.retarget(ix.definition) if m.same and not m.renames else None,
    )


def _index_name(m: _Mapped, ix: Index) -> str:
    name = (
        ix.name
        if m.keep_names or (not m.same and m.index_names[ix.name] == 1)
        else f"{m.mapping.target_table}_{ix.name}"
    )
    return pg_truncated(name)


def _check(m: _Mapped, position: int, check: CheckConstraint) -> CheckConstraint | None:
    """Kept as written within one dialect; across dialects only when its text is portable and
    names selected columns only. An unnamed check is named after its position."""
    expression = (
        m.retarget(check.expression)
        if m.same
        else portable_check(check.expression, m.source.dialect, m.table.column_names)
    )
    if expression is None:
        m.out.warnings.append(
            f"{m.where}: check constraint {check.name or ''} not created: {check.expression}"
        )
        return None
    if not m.same and not all(c in m.rename for c in columns_named(check.expression, m.table)):
        return None
    return CheckConstraint(
        pg_truncated(check.name or f"{m.mapping.target_table}_check_{position + 1}"), expression
    )


def _mysql_column(m: _Mapped, cm: ColumnMapping, src: Column, where: str) -> str | None:
    """Notes and errors of the MySQL decisions on one column (ferry.schema.mysql_postgresql);
    returns the note that replaces the type rule's own, if any."""
    if cm.transform is not None:
        return None
    if src.on_update:
        m.out.note(mysql_postgresql.ON_UPDATE_NOTE, where)
    if mysql_postgresql.unsigned_bigint_key(src):
        if mysql_postgresql.key_fits_bigint(src):
            return "BIGINT UNSIGNED AUTO_INCREMENT: its largest value fits bigint; created as bigint identity"
        m.out.errors.append(
            f"{where}: BIGINT UNSIGNED AUTO_INCREMENT holds values above bigint's maximum; "
            "add a castTo numeric(20,0) transform to keep them (the column is then no identity)"
        )
    if cm.target_type == mysql_postgresql.CITEXT and mysql_postgresql.case_insensitive_key(m.table, src):
        return f"{mysql_postgresql.CITEXT_NOTE} ({src.collation})"
    return mysql_postgresql.time_note(src)


def _calls_nextval(src: Column) -> bool:
    return bool(src.default and src.default.startswith("nextval("))


def _column(m: _Mapped, cm: ColumnMapping, pk: tuple[str, ...]) -> Column:
    """The target column: mapped type (an error when unsupported), default, identity; what is
    lost on the way is noted once per kind of loss."""
    source, table, target_dialect, out, name = m.source, m.table, m.target_dialect, m.out, cm.source
    src = table.column(name)
    assert src is not None
    where = f"{table.name}.{name}"
    mapped = map_type(source.dialect, target_dialect, src.type, table=table.name, column=name)
    mysql_note = _mysql_column(m, cm, src, where) if m.mysql_to_postgresql else None
    if cm.transform is None and mapped.unsupported:
        out.errors.append(f"{where}: {mapped.note}")
    elif cm.transform is None and (mysql_note or mapped.note):
        note = mysql_note or mapped.note
        out.note(mysql_postgresql.zero_dates_error_note(note, src) if cm.zero_dates_error else note, where)
    if cm.transform is None and mysql_target.keyed_text(mapped.type, cm.target_type):
        out.note(mysql_target.KEY_TEXT_NOTE, where)
    # Within PostgreSQL an unchanged type is the catalog's own text: canonical_type would fold a
    # mixed-case type name (Prisma's "Role") to lower case.
    unchanged = m.same and cm.target_type == src.type
    target_type = src.type if unchanged else canonical_type(cm.target_type, target_dialect)
    if mapped.enum_values and target_type == mapped.type:
        out.enums[mapped.type] = EnumType(mapped.type, mapped.enum_values)
    base = target_type.removesuffix("[]")
    if source.dialect == target_dialect and base in source.enums:
        out.enums[base] = source.enums[base]
    carried_types = {o.name for o in source.objects if o.kind == "type"} if m.same else set()
    domain = src.domain if src.domain in carried_types and cm.target_type == src.type else None
    if src.domain and domain is None:
        out.note(
            "PostgreSQL domains are created as their base type (the domain's checks are not kept)", where
        )
    out.user_types |= {t for t in (domain, base) if t in carried_types}
    if src.generated and cm.generated is None:
        out.note(_plain_generated_note(m, cm, src), where)
    carries_value = cm.transform is None
    sequence = m.kept.get(nextval_sequence(src.default) or "") if carries_value else None
    if sequence is not None:
        # A shared or standalone sequence: the column keeps drawing from it, as on the source.
        out.sequences[sequence.name] = sequence
        default = MappedDefault(m.retarget(src.default))
    else:
        default = map_default(source.dialect, target_dialect, src, target_type)
        default = replace(default, expression=m.retarget(default.expression))
    if default.dropped:
        out.note(default.dropped, where)
    autoincrement = src.autoincrement and carries_value and sequence is None
    if autoincrement and target_type not in _INTEGER_TYPES:
        out.note(f"not generated on the target ({target_type} has no identity); ids are copied", where)
    if (
        m.same
        and table.partition_by
        and src.autoincrement
        and not src.identity_always
        and _calls_nextval(src)
    ):
        # PostgreSQL 15 has no identity columns on partitioned tables: the serial stays a
        # sequence default, and the plan creates the sequence (ferry.schema.objects_plan).
        return Column(
            cm.target,
            target_type,
            cm.nullable and cm.target not in pk,
            m.retarget(src.default) if carries_value else None,
        )
    return Column(
        name=cm.target,
        type=target_type,
        nullable=cm.nullable and cm.target not in pk,
        default=default.expression if carries_value and cm.generated is None else None,
        autoincrement=autoincrement and target_type in _INTEGER_TYPES,
        domain=domain,
        # Within PostgreSQL the identity keeps ALWAYS, START and INCREMENT, and the collation stays.
        identity_always=src.identity_always and m.same,
        identity_start=src.identity_start if m.same else None,
        identity_increment=src.identity_increment if m.same else None,
        collation=src.collation if m.same and target_type == src.type else None,
        generated=cm.generated,
    )


def _plain_generated_note(m: _Mapped, cm: ColumnMapping, src: Column) -> str:
    """Why a generated column is copied as plain values (MySQL to PostgreSQL says which construct)."""
    if not m.mysql_to_postgresql:
        return "generated columns are created as plain columns and their values copied"
    reason = mysql_generated.translate(
        m.table, src, m.rename, cm.transform is not None, cm.target_type
    ).reason
    return f"{mysql_generated.PLAIN_NOTE}: {reason}"
