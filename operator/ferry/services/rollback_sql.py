"""The SQL of rollback: truncate the tables a migration wrote, or drop the ones it created."""

from __future__ import annotations

import sqlalchemy
from sqlalchemy.schema import DropTable

from ferry.schema.mapping import TableMapping


def _table(name: str, schema: str | None) -> sqlalchemy.Table:
    return sqlalchemy.Table(name, sqlalchemy.MetaData(), schema=schema)


def truncate_tables(engine: sqlalchemy.Engine, mappings: list[TableMapping]) -> list[str]:
    done = []
    preparer = engine.dialect.identifier_preparer
    with engine.begin() as conn:
        for mapping in mappings:
            table = preparer.format_table(_table(mapping.target_table, mapping.target_schema))
            if engine.dialect.name == "sqlite":
                conn.execute(sqlalchemy.text(f"DELETE FROM {table}"))
            else:
                conn.execute(sqlalchemy.text(f"TRUNCATE TABLE {table}"))
            done.append(mapping.qualified_target)
    return done


def drop_tables(engine: sqlalchemy.Engine, qualified_names: list[str]) -> list[str]:
    """Drop only the named tables (those the migration recorded as created), children first."""
    dropped = []
    inspector = sqlalchemy.inspect(engine)
    with engine.begin() as conn:
        for qualified in reversed(qualified_names):
            schema, _, name = qualified.rpartition(".")
            if not inspector.has_table(name, schema=schema or None):
                continue
            cascade = " CASCADE" if engine.dialect.name == "postgresql" else ""
            conn.execute(
                sqlalchemy.text(str(DropTable(_table(name, schema or None)).compile(engine)) + cascade)
            )
            dropped.append(qualified)
    return dropped
