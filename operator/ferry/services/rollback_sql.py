"""The SQL of rollback: truncate the tables a migration wrote, or drop the ones it created; forget
its checkpoints."""

from __future__ import annotations

import sqlalchemy
from sqlalchemy.schema import DropTable

from ferry.copy.checkpoint_sql import PG_SCHEMA
from ferry.copy.checkpoint_sql import TABLE as CHECKPOINT_TABLE
from ferry.copy.validation_store import TABLE as VALIDATION_TABLE
from ferry.db.dialects import verbatim
from ferry.schema.mapping import TableMapping


def _table(name: str, schema: str | None) -> sqlalchemy.Table:
    return sqlalchemy.Table(name, sqlalchemy.MetaData(), schema=schema)


def truncate_tables(engine: sqlalchemy.Engine, mappings: list[TableMapping]) -> list[str]:
    """Empty the migration's target tables in one transaction.

    PostgreSQL gets one `TRUNCATE a, b, …`: it refuses to truncate a table another one references
    unless both are in the same statement (and this never cascades outside the migration).
    """
    # Quoted for text(), which doubles `%` for the driver itself (ferry.db.dialects.verbatim).
    preparer = verbatim(engine.dialect).identifier_preparer
    tables = [preparer.format_table(_table(m.target_table, m.target_schema)) for m in mappings]
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql" and tables:
            conn.execute(sqlalchemy.text(f"TRUNCATE TABLE {', '.join(tables)}"))
        else:
            verb = "DELETE FROM" if engine.dialect.name == "sqlite" else "TRUNCATE TABLE"
            for table in tables:
                conn.execute(sqlalchemy.text(f"{verb} {table}"))
    return [m.qualified_target for m in mappings]


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
            drop = DropTable(_table(name, schema or None)).compile(dialect=verbatim(engine.dialect))
            conn.execute(sqlalchemy.text(str(drop) + cascade))
            dropped.append(qualified)
    return dropped


def clear_checkpoints(
    engine: sqlalchemy.Engine, migration_uid: str, *, validation_results: bool = True
) -> int:
    """Forget the migration's rows of the target's checkpoint table (ferry.copy.checkpoint_sql)
    and of its validation results (ferry.copy.validation_store; kept with `validation_results`
    False, as a succeeded Migration's evidence): nothing resumes them, and they would pile up
    with every Migration that wrote there. The tables themselves stay (other Migrations may
    share them). Returns the rows removed."""
    schema = PG_SCHEMA if engine.dialect.name == "postgresql" else None
    inspector = sqlalchemy.inspect(engine)
    removed = 0
    for name in (CHECKPOINT_TABLE, VALIDATION_TABLE) if validation_results else (CHECKPOINT_TABLE,):
        if not inspector.has_table(name, schema=schema):
            continue
        table = sqlalchemy.table(name, sqlalchemy.column("migration_uid"), schema=schema)
        with engine.begin() as conn:
            result = conn.execute(sqlalchemy.delete(table).where(table.c.migration_uid == migration_uid))
        removed += int(result.rowcount or 0)
    return removed
