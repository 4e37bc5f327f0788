"""Render operations as DDL for a target dialect.

CREATE TABLE, CREATE INDEX, ADD CONSTRAINT and CREATE TYPE ... AS ENUM are compiled by
SQLAlchemy (quoting, constraint syntax, identity columns) from the model as
ferry.schema.ddl_sqlalchemy expresses it. ALTER COLUMN statements, which SQLAlchemy Core does
not provide, are written here with the dialect's identifier preparer.

One function renders each operation kind (`RENDERERS`, as alembic has one render function
per operation); MySQL and MariaDB are one family (`ferry.db.dialects`). Data operations are
settings of the copy, not statements: rendering one is an error.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql.named_types import CreateEnumType
from sqlalchemy.engine.interfaces import Dialect

from ferry.db.dialects import Family, UnknownDialect, family, sqlalchemy_dialect, verbatim
from ferry.schema import ddl_triggers
from ferry.schema.ddl_sqlalchemy import (
    LiteralType,
    column_definition,
    compile_ddl,
    sa_table,
    stub_table,
    table_ref,
    type_text,
)
from ferry.schema.operations import DATA_KINDS, ConstraintType, Operation, OpKind


class RenderError(ValueError):
    """The operation has no DDL on this dialect (SQLite cannot alter a column type, say)."""


def dialect_for(name: str | Dialect) -> Dialect:
    if not isinstance(name, str):
        return verbatim(name)
    try:
        return sqlalchemy_dialect(name)
    except UnknownDialect:
        raise RenderError(f"no DDL renderer for dialect {name!r}") from None


# One renderer per operation kind. A renderer gets the operation, the dialect to compile for
# and that dialect's family, and returns the statements (none, for an enum outside PostgreSQL).
Renderer = Callable[[Operation, Dialect, Family], list[str]]


def _no_ddl(op: Operation, dialect: Dialect) -> RenderError:
    return RenderError(f"{op.kind} on {op.qualified_table} has no DDL on {dialect.name}")


def _column_name(op: Operation, dialect: Dialect) -> str:
    return dialect.identifier_preparer.quote(op.column.name) if op.column else ""


def _modify_column(op: Operation, dialect: Dialect) -> list[str]:
    """MySQL changes a column's type or nullability by restating the whole column."""
    return [f"ALTER TABLE {table_ref(op, dialect)} MODIFY COLUMN {column_definition(op, dialect)}"]


def _alter_column(op: Operation, dialect: Dialect, clause: str) -> list[str]:
    return [f"ALTER TABLE {table_ref(op, dialect)} ALTER COLUMN {_column_name(op, dialect)} {clause}"]


def _create_enum(op: Operation, dialect: Dialect, fam: Family) -> list[str]:
    assert op.enum is not None
    if fam is not Family.POSTGRESQL:
        return []  # other engines declare enums inline in the column type
    enum = postgresql.ENUM(*op.enum.values, name=op.enum.name, schema=op.enum.schema)
    return [compile_ddl(CreateEnumType(enum), dialect)]


def _create_sequence(op: Operation, dialect: Dialect, fam: Family) -> list[str]:
    """Only planned for PostgreSQL targets (a sequence that stays one, ferry.schema.sequences)."""
    seq = op.sequence
    if fam is not Family.POSTGRESQL or seq is None:
        raise _no_ddl(op, dialect)
    sequence = sa.Sequence(
        seq.name, start=seq.start, increment=seq.increment, minvalue=seq.min_value,
        maxvalue=seq.max_value, cycle=seq.cycle, schema=op.schema,
        data_type=LiteralType(seq.type),  # type: ignore[arg-type]  # the type's text, as for columns
    )  # fmt: skip
    return [compile_ddl(sa.schema.CreateSequence(sequence), dialect)]


def _create_table(op: Operation, dialect: Dialect, fam: Family) -> list[str]:
    assert op.table_def is not None
    return [compile_ddl(sa.schema.CreateTable(sa_table(op.table_def, sa.MetaData(), dialect, op)), dialect)]


def _add_column(op: Operation, dialect: Dialect, fam: Family) -> list[str]:
    return [f"ALTER TABLE {table_ref(op, dialect)} ADD COLUMN {column_definition(op, dialect)}"]


def _alter_type(op: Operation, dialect: Dialect, fam: Family) -> list[str]:
    if fam is Family.MYSQL:
        return _modify_column(op, dialect)
    if fam is not Family.POSTGRESQL:
        raise _no_ddl(op, dialect)
    assert op.column is not None
    qcol = _column_name(op, dialect)
    new = type_text(op.column.type, dialect, op.schema, op.user_types)
    # An enum the plan creates has no cast from the old type: go through text.
    using = f"{qcol}::text::{new}" if new != op.column.type else f"{qcol}::{new}"
    return _alter_column(op, dialect, f"TYPE {new} USING {using}")


def _set_not_null(op: Operation, dialect: Dialect, fam: Family) -> list[str]:
    if fam is Family.MYSQL:
        return _modify_column(op, dialect)
    if fam is not Family.POSTGRESQL:
        raise _no_ddl(op, dialect)
    return _alter_column(op, dialect, "SET NOT NULL")


def _drop_not_null(op: Operation, dialect: Dialect, fam: Family) -> list[str]:
    if fam is Family.MYSQL:
        return _modify_column(op, dialect)
    if fam is not Family.POSTGRESQL:
        raise _no_ddl(op, dialect)
    return _alter_column(op, dialect, "DROP NOT NULL")


def _set_default(op: Operation, dialect: Dialect, fam: Family) -> list[str]:
    if fam is Family.SQLITE:
        raise _no_ddl(op, dialect)
    assert op.column is not None and op.column.default is not None
    return _alter_column(op, dialect, f"SET DEFAULT {op.column.default}")


def _drop_default(op: Operation, dialect: Dialect, fam: Family) -> list[str]:
    if fam is Family.SQLITE:
        raise _no_ddl(op, dialect)
    return _alter_column(op, dialect, "DROP DEFAULT")


def _add_constraint(
    op: Operation, dialect: Dialect, fam: Family, columns: Iterable[str], constraint: sa.Constraint
) -> list[str]:
    """ALTER TABLE ... ADD, compiled against a stub of the table (SQLite cannot add constraints)."""
    if fam is Family.SQLITE:
        raise _no_ddl(op, dialect)
    stub_table(op.schema, op.table, columns, sa.MetaData()).append_constraint(constraint)
    return [compile_ddl(sa.schema.AddConstraint(constraint), dialect)]


def _add_primary_key(op: Operation, dialect: Dialect, fam: Family) -> list[str]:
    return _add_constraint(op, dialect, fam, op.primary_key, sa.PrimaryKeyConstraint(*op.primary_key))


def _add_unique(op: Operation, dialect: Dialect, fam: Family) -> list[str]:
    assert op.unique is not None
    columns = op.unique.columns
    return _add_constraint(op, dialect, fam, columns, sa.UniqueConstraint(*columns, name=op.unique.name))


def _add_check(op: Operation, dialect: Dialect, fam: Family) -> list[str]:
    assert op.check is not None
    check = sa.CheckConstraint(sa.text(op.check.expression), name=op.check.name)
    return _add_constraint(op, dialect, fam, (), check)


def _add_foreign_key(op: Operation, dialect: Dialect, fam: Family) -> list[str]:
    if fam is Family.SQLITE:
        raise _no_ddl(op, dialect)
    fk = op.foreign_key
    assert fk is not None
    metadata = sa.MetaData()
    own = stub_table(op.schema, op.table, fk.columns, metadata)
    referred = stub_table(fk.referred_schema or op.schema, fk.referred_table, fk.referred_columns, metadata)
    constraint = sa.ForeignKeyConstraint(
        list(fk.columns),
        [referred.c[c] for c in fk.referred_columns],
        name=fk.name,
        ondelete=fk.on_delete,
        onupdate=fk.on_update,
        deferrable=fk.deferrable or None,
        initially="DEFERRED" if fk.initially_deferred else None,
    )
    own.append_constraint(constraint)
    return [compile_ddl(sa.schema.AddConstraint(constraint), dialect)]


def _drop_constraint(op: Operation, dialect: Dialect, fam: Family) -> list[str]:
    if fam is Family.SQLITE:
        raise _no_ddl(op, dialect)
    name = dialect.identifier_preparer.quote(op.constraint_name or "")
    clause = f"DROP CONSTRAINT {name}"
    if fam is Family.MYSQL and op.constraint_type is not None:
        # MySQL drops keys and foreign keys by their own syntax (CHECK by the standard one).
        clause = {
            ConstraintType.PRIMARY_KEY: "DROP PRIMARY KEY",
            ConstraintType.FOREIGN_KEY: f"DROP FOREIGN KEY {name}",
            ConstraintType.UNIQUE: f"DROP INDEX {name}",
        }.get(op.constraint_type, clause)
    return [f"ALTER TABLE {table_ref(op, dialect)} {clause}"]


def _create_index(op: Operation, dialect: Dialect, fam: Family) -> list[str]:
    assert op.index is not None
    ix = op.index
    if fam is Family.POSTGRESQL and ix.definition:
        # pg_get_indexdef's text from USING on: keys with DESC, opclasses, collations, INCLUDE, WHERE.
        unique = "UNIQUE " if ix.unique else ""
        name = dialect.identifier_preparer.quote(ix.name)
        using = (
            ix.definition.removeprefix("btree ")
            if ix.definition.startswith("btree (")
            else f"USING {ix.definition}"
        )
        return [f"CREATE {unique}INDEX {name} ON {table_ref(op, dialect)} {using}"]
    t = stub_table(op.schema, op.table, () if ix.expressions else ix.columns, sa.MetaData())
    elements = [sa.text(c) if ix.expressions else t.c[c] for c in ix.columns]
    kw: dict[str, object] = {}
    if fam is Family.POSTGRESQL and ix.method:
        kw["postgresql_using"] = ix.method
    if fam is Family.POSTGRESQL and ix.where:
        kw["postgresql_where"] = sa.text(ix.where)
    index = sa.Index(ix.name, *elements, unique=ix.unique, _table=t, **kw)  # type: ignore[arg-type]
    return [compile_ddl(sa.schema.CreateIndex(index), dialect)]


def _drop_index(op: Operation, dialect: Dialect, fam: Family) -> list[str]:
    assert op.index is not None
    prep = dialect.identifier_preparer
    name = prep.quote(op.index.name)
    if fam is Family.MYSQL:  # index names are per table
        return [f"DROP INDEX {name} ON {table_ref(op, dialect)}"]
    return [f"DROP INDEX {prep.quote_schema(op.schema) + '.' if op.schema else ''}{name}"]


def _drop_column(op: Operation, dialect: Dialect, fam: Family) -> list[str]:
    return [f"ALTER TABLE {table_ref(op, dialect)} DROP COLUMN {_column_name(op, dialect)}"]


def _drop_table(op: Operation, dialect: Dialect, fam: Family) -> list[str]:
    return [f"DROP TABLE {table_ref(op, dialect)}"]


def _data_operation(op: Operation, dialect: Dialect, fam: Family) -> list[str]:
    raise RenderError(
        f"{op.kind} on {op.qualified_table} is a data operation (a setting of the copy), not DDL: "
        "apply only a plan's pre_data and post_data operations"
    )


def _carried(op: Operation, dialect: Dialect, fam: Family) -> list[str]:
    """A PostgreSQL object carried by its definition (ferry.schema.objects_plan)."""
    if fam is not Family.POSTGRESQL:
        raise _no_ddl(op, dialect)
    return list(op.statements)


def _routine(op: Operation, dialect: Dialect, fam: Family) -> list[str]:
    """As pg_dump does: bodies are not checked on creation, so a SQL function may name a table
    or another function that comes later in the plan."""
    return ["SET LOCAL check_function_bodies = off", *_carried(op, dialect, fam)]


def _carried_or(made: Renderer) -> Renderer:
    """Kinds both carried from a PostgreSQL source (with their statements) and made by Ferry
    (a sequence kept from the source, citext for MySQL keys, an ON UPDATE trigger)."""

    def render(op: Operation, dialect: Dialect, fam: Family) -> list[str]:
        return _carried(op, dialect, fam) if op.statements else made(op, dialect, fam)

    return render


def _create_schema(op: Operation, dialect: Dialect, fam: Family) -> list[str]:
    """Only planned for PostgreSQL targets: the schema named by `spec.target.schema`."""
    if fam is not Family.POSTGRESQL:
        raise _no_ddl(op, dialect)
    return [f"CREATE SCHEMA {dialect.identifier_preparer.quote_schema(op.table)}"]


_CARRIED_KINDS = (
    OpKind.CREATE_TYPE,
    OpKind.CREATE_PARTITION,
    OpKind.ADD_EXCLUSION,
    OpKind.CREATE_PARTITION_INDEX,
    OpKind.ADD_PARTITION_CONSTRAINT,
    OpKind.CREATE_MATERIALIZED_VIEW,
    OpKind.CREATE_VIEW_INDEX,
    OpKind.ENABLE_ROW_SECURITY,
    OpKind.CREATE_POLICY,
    OpKind.COMMENT,
    OpKind.GRANT_PRIVILEGES,
    OpKind.SET_OWNER,
    OpKind.ALTER_DEFAULT_PRIVILEGES,
    OpKind.CREATE_TEXT_SEARCH_DICTIONARY,
    OpKind.CREATE_TEXT_SEARCH_CONFIGURATION,
    OpKind.CREATE_RULE,
    OpKind.CREATE_CAST,
    OpKind.INHERIT_TABLE,
    OpKind.ALTER_DOMAIN,
    OpKind.SET_COLUMN_DOMAIN,
    OpKind.SET_COLLATION,
    OpKind.SET_IDENTITY,
)

RENDERERS: dict[OpKind, Renderer] = {
    OpKind.CREATE_SCHEMA: _create_schema,
    OpKind.CREATE_ENUM: _create_enum,
    OpKind.CREATE_SEQUENCE: _carried_or(_create_sequence),
    OpKind.CREATE_TABLE: _create_table,
    OpKind.ADD_COLUMN: _add_column,
    OpKind.ALTER_TYPE: _alter_type,
    OpKind.SET_NOT_NULL: _set_not_null,
    OpKind.DROP_NOT_NULL: _drop_not_null,
    OpKind.SET_DEFAULT: _set_default,
    OpKind.DROP_DEFAULT: _drop_default,
    OpKind.ADD_PRIMARY_KEY: _add_primary_key,
    OpKind.ADD_UNIQUE: _add_unique,
    OpKind.ADD_CHECK: _add_check,
    OpKind.ADD_FOREIGN_KEY: _add_foreign_key,
    OpKind.DROP_CONSTRAINT: _drop_constraint,
    OpKind.CREATE_INDEX: _create_index,
    OpKind.DROP_INDEX: _drop_index,
    OpKind.DROP_COLUMN: _drop_column,
    OpKind.DROP_TABLE: _drop_table,
    OpKind.CREATE_EXTENSION: _carried_or(ddl_triggers.create_extension),
    OpKind.CREATE_TRIGGER: _carried_or(ddl_triggers.create_trigger),
    OpKind.CREATE_VIEW: _carried_or(ddl_triggers.create_view),
    **{kind: _data_operation for kind in DATA_KINDS},
    **{kind: _carried for kind in _CARRIED_KINDS},
    OpKind.CREATE_FUNCTION: _routine,
    OpKind.CREATE_AGGREGATE: _routine,
}


def render_operation(op: Operation, dialect: Dialect) -> list[str]:
    try:
        fam = family(dialect)
    except UnknownDialect:
        raise RenderError(f"no DDL renderer for dialect {dialect.name!r}") from None
    return RENDERERS[op.kind](op, verbatim(dialect), fam)  # the plan's DDL runs as written


def render_ddl(ops: Iterable[Operation], dialect: str | Dialect) -> list[str]:
    """One statement per string, in the order given, without trailing semicolons."""
    d = dialect_for(dialect)
    return [stmt for op in ops for stmt in render_operation(op, d)]
