"""Render operations as DDL for a target dialect.

CREATE TABLE, CREATE INDEX, ADD CONSTRAINT and CREATE TYPE ... AS ENUM are compiled by
SQLAlchemy (quoting, constraint syntax, identity columns). Column types are our normalized
text, carried through a literal type. ALTER COLUMN statements, which SQLAlchemy Core does
not provide, are written here with the dialect's identifier preparer.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite
from sqlalchemy.dialects.postgresql.named_types import CreateEnumType
from sqlalchemy.engine.interfaces import Dialect

from ferry.schema.model import Column, ForeignKey, Table
from ferry.schema.operations import Operation, OpKind

_PLAIN_TYPE = re.compile(r"^[a-z_][a-z0-9_ ]*(\([0-9, ]+\))?(\[\])?$")


class RenderError(ValueError):
    """The operation has no DDL on this dialect (SQLite cannot alter a column type, say)."""


class LiteralType(sa.types.UserDefinedType[object]):
    """A column type rendered exactly as the given text."""

    cache_ok = True

    def __init__(self, text: str) -> None:
        self.text = text

    def get_col_spec(self, **kw: object) -> str:
        return self.text


def dialect_for(name: str | Dialect) -> Dialect:
    if not isinstance(name, str):
        return name
    family = {"postgresql": postgresql, "mysql": mysql, "mariadb": mysql, "sqlite": sqlite}.get(name)
    if family is None:
        raise RenderError(f"no DDL renderer for dialect {name!r}")
    dialect: Dialect = family.dialect()
    return dialect


def _type_text(
    type_text: str, dialect: Dialect, schema: str | None = None, user_types: tuple[str, ...] = ()
) -> str:
    """Built-in types pass as written; an enum type the plan creates is quoted as needed and
    qualified with the table's schema (the target schema need not be on the search path)."""
    base, array = (type_text[:-2], "[]") if type_text.endswith("[]") else (type_text, "")
    prep = dialect.identifier_preparer
    if base in user_types:
        return (f"{prep.quote_schema(schema)}." if schema else "") + prep.quote(base) + array
    if _PLAIN_TYPE.match(type_text):
        return type_text
    return prep.quote_identifier(base) + array


def _sa_column(col: Column, dialect: Dialect, op: Operation | None = None) -> sa.Column[object]:
    type_text = _type_text(col.type, dialect, op.schema if op else None, op.user_types if op else ())
    args: list[object] = []
    if col.autoincrement and dialect.name == "postgresql":
        args.append(sa.Identity(always=False))
    elif col.autoincrement and dialect.name in ("mysql", "mariadb"):
        type_text += " AUTO_INCREMENT"
    return sa.Column(
        col.name,
        LiteralType(type_text),
        *args,  # type: ignore[arg-type]
        nullable=col.nullable,
        server_default=sa.text(col.default) if col.default is not None else None,
        autoincrement="auto" if args else False,
    )


def _sa_table(table: Table, metadata: sa.MetaData, dialect: Dialect, op: Operation) -> sa.Table:
    items: list[sa.schema.SchemaItem] = [_sa_column(c, dialect, op) for c in table.columns]
    if table.primary_key:
        items.append(sa.PrimaryKeyConstraint(*table.primary_key, name=table.primary_key_name))
    items += [sa.UniqueConstraint(*u.columns, name=u.name) for u in table.unique_constraints]
    items += [sa.CheckConstraint(sa.text(c.expression), name=c.name) for c in table.check_constraints]
    return sa.Table(table.name, metadata, *items, schema=table.schema)


def _stub(schema: str | None, name: str, columns: Iterable[str], metadata: sa.MetaData) -> sa.Table:
    key = f"{schema}.{name}" if schema else name
    if key in metadata.tables:
        table = metadata.tables[key]
        for c in columns:
            if c not in table.c:
                table.append_column(sa.Column(c, LiteralType("integer")))
        return table
    return sa.Table(name, metadata, *(sa.Column(c, LiteralType("integer")) for c in columns), schema=schema)


def _table_ref(op: Operation, dialect: Dialect) -> str:
    prep = dialect.identifier_preparer
    name = prep.quote(op.table)
    return f"{prep.quote_schema(op.schema)}.{name}" if op.schema else name


def _compile(element: sa.schema.ExecutableDDLElement | sa.schema.BaseDDLElement, dialect: Dialect) -> str:
    return str(element.compile(dialect=dialect)).strip()


def _foreign_key(op: Operation, fk: ForeignKey, dialect: Dialect) -> str:
    metadata = sa.MetaData()
    own = _stub(op.schema, op.table, fk.columns, metadata)
    referred = _stub(fk.referred_schema or op.schema, fk.referred_table, fk.referred_columns, metadata)
    constraint = sa.ForeignKeyConstraint(
        list(fk.columns),
        [referred.c[c] for c in fk.referred_columns],
        name=fk.name,
        ondelete=fk.on_delete,
        onupdate=fk.on_update,
    )
    own.append_constraint(constraint)
    return _compile(sa.schema.AddConstraint(constraint), dialect)


def render_operation(op: Operation, dialect: Dialect) -> list[str]:
    prep = dialect.identifier_preparer
    table = _table_ref(op, dialect)
    is_pg = dialect.name == "postgresql"
    is_mysql = dialect.name in ("mysql", "mariadb")
    col = op.column
    qcol = prep.quote(col.name) if col else ""
    match op.kind:
        case OpKind.CREATE_ENUM:
            assert op.enum is not None
            if not is_pg:
                return []  # other engines declare enums inline in the column type
            enum = postgresql.ENUM(*op.enum.values, name=op.enum.name, schema=op.enum.schema)
            return [_compile(CreateEnumType(enum), dialect)]
        case OpKind.CREATE_TABLE:
            assert op.table_def is not None
            return [
                _compile(sa.schema.CreateTable(_sa_table(op.table_def, sa.MetaData(), dialect, op)), dialect)
            ]
        case OpKind.ADD_COLUMN:
            assert col is not None
            t = sa.Table(op.table, sa.MetaData(), _sa_column(col, dialect, op), schema=op.schema)
            return [
                f"ALTER TABLE {table} ADD COLUMN {_compile(sa.schema.CreateColumn(t.c[col.name]), dialect)}"
            ]
        case OpKind.ALTER_TYPE | OpKind.SET_NOT_NULL | OpKind.DROP_NOT_NULL if is_mysql:
            assert col is not None
            t = sa.Table(op.table, sa.MetaData(), _sa_column(col, dialect, op), schema=op.schema)
            return [
                f"ALTER TABLE {table} MODIFY COLUMN "
                f"{_compile(sa.schema.CreateColumn(t.c[col.name]), dialect)}"
            ]
        case OpKind.ALTER_TYPE if is_pg:
            assert col is not None
            new = _type_text(col.type, dialect, op.schema, op.user_types)
            using = f"{qcol}::text::{new}" if new != col.type else f"{qcol}::{new}"
            return [f"ALTER TABLE {table} ALTER COLUMN {qcol} TYPE {new} USING {using}"]
        case OpKind.SET_NOT_NULL if is_pg:
            return [f"ALTER TABLE {table} ALTER COLUMN {qcol} SET NOT NULL"]
        case OpKind.DROP_NOT_NULL if is_pg:
            return [f"ALTER TABLE {table} ALTER COLUMN {qcol} DROP NOT NULL"]
        case OpKind.SET_DEFAULT if is_pg or is_mysql:
            assert col is not None and col.default is not None
            return [f"ALTER TABLE {table} ALTER COLUMN {qcol} SET DEFAULT {col.default}"]
        case OpKind.DROP_DEFAULT if is_pg or is_mysql:
            return [f"ALTER TABLE {table} ALTER COLUMN {qcol} DROP DEFAULT"]
        case OpKind.ADD_PRIMARY_KEY | OpKind.ADD_UNIQUE | OpKind.ADD_CHECK if dialect.name != "sqlite":
            metadata = sa.MetaData()
            cols = op.primary_key or (op.unique.columns if op.unique else ())
            t = _stub(op.schema, op.table, cols, metadata)
            constraint: sa.Constraint
            if op.kind == OpKind.ADD_PRIMARY_KEY:
                constraint = sa.PrimaryKeyConstraint(*cols)
            elif op.unique is not None:
                constraint = sa.UniqueConstraint(*cols, name=op.unique.name)
            else:
                assert op.check is not None
                constraint = sa.CheckConstraint(sa.text(op.check.expression), name=op.check.name)
            t.append_constraint(constraint)
            return [_compile(sa.schema.AddConstraint(constraint), dialect)]
        case OpKind.ADD_FOREIGN_KEY if dialect.name != "sqlite":
            assert op.foreign_key is not None
            return [_foreign_key(op, op.foreign_key, dialect)]
        case OpKind.DROP_CONSTRAINT if dialect.name != "sqlite":
            return [_drop_constraint(op, table, dialect)]
        case OpKind.CREATE_INDEX:
            assert op.index is not None
            ix = op.index
            t = _stub(op.schema, op.table, () if ix.expressions else ix.columns, sa.MetaData())
            elements = [sa.text(c) if ix.expressions else t.c[c] for c in ix.columns]
            kw: dict[str, object] = {}
            if is_pg and ix.method:
                kw["postgresql_using"] = ix.method
            if is_pg and ix.where:
                kw["postgresql_where"] = sa.text(ix.where)
            index = sa.Index(ix.name, *elements, unique=ix.unique, _table=t, **kw)  # type: ignore[arg-type]
            return [_compile(sa.schema.CreateIndex(index), dialect)]
        case OpKind.DROP_INDEX:
            assert op.index is not None
            name = prep.quote(op.index.name)
            if is_mysql:
                return [f"DROP INDEX {name} ON {table}"]
            return [f"DROP INDEX {prep.quote_schema(op.schema) + '.' if op.schema else ''}{name}"]
        case OpKind.DROP_COLUMN:
            return [f"ALTER TABLE {table} DROP COLUMN {qcol}"]
        case OpKind.DROP_TABLE:
            return [f"DROP TABLE {table}"]
    raise RenderError(f"{op.kind} on {op.qualified_table} has no DDL on {dialect.name}")


def _drop_constraint(op: Operation, table: str, dialect: Dialect) -> str:
    name = dialect.identifier_preparer.quote(op.constraint_name or "")
    if dialect.name in ("mysql", "mariadb"):
        clause = {
            "primary_key": "DROP PRIMARY KEY",
            "foreign_key": f"DROP FOREIGN KEY {name}",
            "unique": f"DROP INDEX {name}",
        }.get(op.constraint_type or "", f"DROP CONSTRAINT {name}")
        return f"ALTER TABLE {table} {clause}"
    return f"ALTER TABLE {table} DROP CONSTRAINT {name}"


def render_ddl(ops: Iterable[Operation], dialect: str | Dialect) -> list[str]:
    """One statement per string, in the order given, without trailing semicolons."""
    d = dialect_for(dialect)
    return [stmt for op in ops for stmt in render_operation(op, d)]
