"""Ferry's schema model expressed in SQLAlchemy, for the DDL renderers (ferry.schema.ddl).

Column types are Ferry's normalized text, carried through a literal type; tables, columns,
identities, generated columns and constraints are SQLAlchemy objects so that SQLAlchemy
compiles the quoting and syntax of each dialect.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine.interfaces import Dialect

from ferry.db.dialects import Family, family
from ferry.schema.model import Column, Table
from ferry.schema.operations import Operation

# A built-in or extension type with its modifiers: `numeric(12,2)`, `geometry(Point,4326)`.
_PLAIN_TYPE = re.compile(r"^[a-z_][a-z0-9_ ]*(\([A-Za-z0-9_, ]+\))?(\[\])?$")


class LiteralType(sa.types.UserDefinedType[object]):
    """A column type rendered exactly as the given text."""

    cache_ok = True

    def __init__(self, text: str) -> None:
        self.text = text

    def get_col_spec(self, **kw: object) -> str:
        return self.text


def type_text(
    text: str, dialect: Dialect, schema: str | None = None, user_types: tuple[str, ...] = ()
) -> str:
    """Built-in types pass as written; an enum type the plan creates is quoted as needed and
    qualified with the table's schema (the target schema need not be on the search path)."""
    base, array = (text[:-2], "[]") if text.endswith("[]") else (text, "")
    prep = dialect.identifier_preparer
    if base in user_types:
        return (f"{prep.quote_schema(schema)}." if schema else "") + prep.quote(base) + array
    if _PLAIN_TYPE.match(text):
        return text
    return prep.quote_identifier(base) + array


def sa_column(col: Column, dialect: Dialect, op: Operation | None = None) -> sa.Column[object]:
    declared = col.domain or col.type
    declared_text = type_text(declared, dialect, op.schema if op else None, op.user_types if op else ())
    if col.collation and family(dialect) is Family.POSTGRESQL:
        declared_text += f" COLLATE {col.collation}"
    args: list[object] = []
    if col.generated and family(dialect) is Family.POSTGRESQL:
        # PostgreSQL to PostgreSQL, or a MySQL expression translated (ferry.schema.mysql_generated).
        args.append(sa.Computed(sa.text(col.generated), persisted=True))
    elif col.autoincrement and family(dialect) is Family.POSTGRESQL:
        args.append(
            sa.Identity(
                always=col.identity_always, start=col.identity_start, increment=col.identity_increment
            )
        )
    elif col.autoincrement and family(dialect) is Family.MYSQL:
        declared_text += " AUTO_INCREMENT"
    return sa.Column(
        col.name,
        LiteralType(declared_text),
        *args,  # type: ignore[arg-type]
        nullable=col.nullable,
        server_default=sa.text(col.default) if col.default is not None else None,
        autoincrement="auto" if col.autoincrement and args else False,
    )


def sa_table(table: Table, metadata: sa.MetaData, dialect: Dialect, op: Operation) -> sa.Table:
    items: list[sa.schema.SchemaItem] = [sa_column(c, dialect, op) for c in table.columns]
    if table.primary_key:
        items.append(sa.PrimaryKeyConstraint(*table.primary_key, name=table.primary_key_name))
    items += [sa.UniqueConstraint(*u.columns, name=u.name) for u in table.unique_constraints]
    items += [sa.CheckConstraint(sa.text(c.expression), name=c.name) for c in table.check_constraints]
    kw: dict[str, Any] = {"postgresql_partition_by": table.partition_by} if table.partition_by else {}
    return sa.Table(table.name, metadata, *items, schema=table.schema, **kw)


def stub_table(schema: str | None, name: str, columns: Iterable[str], metadata: sa.MetaData) -> sa.Table:
    key = f"{schema}.{name}" if schema else name
    if key in metadata.tables:
        table = metadata.tables[key]
        for c in columns:
            if c not in table.c:
                table.append_column(sa.Column(c, LiteralType("integer")))
        return table
    return sa.Table(name, metadata, *(sa.Column(c, LiteralType("integer")) for c in columns), schema=schema)


def table_ref(op: Operation, dialect: Dialect) -> str:
    prep = dialect.identifier_preparer
    name = prep.quote(op.table)
    return f"{prep.quote_schema(op.schema)}.{name}" if op.schema else name


def compile_ddl(element: sa.schema.ExecutableDDLElement | sa.schema.BaseDDLElement, dialect: Dialect) -> str:
    return str(element.compile(dialect=dialect)).strip()


def column_definition(op: Operation, dialect: Dialect) -> str:
    """The column as CREATE TABLE would declare it (type, identity, nullability, default)."""
    assert op.column is not None
    t = sa.Table(op.table, sa.MetaData(), sa_column(op.column, dialect, op), schema=op.schema)
    return compile_ddl(sa.schema.CreateColumn(t.c[op.column.name]), dialect)
