"""`copy.truncateTarget`: empty each target table once per migration, even across restarts.

The table is emptied and a marker checkpoint row (`!truncated:<table>`, done) is written
in one transaction; a restarted run sees the marker and leaves the rows copied since
alone. Run it from one place (the CLI, or the operator before the workers start), not
from every worker: workers of a split table would empty each other's ranges.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from ferry.api.migration import OnConflict
from ferry.copy.checkpoint_sql import checkpoint_sql
from ferry.copy.connections import close_target, ensure_checkpoint_table, open_target
from ferry.copy.endpoints import Endpoint
from ferry.copy.insert_target import InsertTarget
from ferry.copy.pg_target import PgTarget
from ferry.copy.sql import qualified, source_relation
from ferry.schema.mapping import TableMapping


def marker(table: str) -> str:
    return f"!truncated:{table}"


async def truncate_targets(
    endpoint: Endpoint, migration_uid: str, mappings: Sequence[TableMapping]
) -> list[str]:
    """Empty the target tables not yet emptied for this migration; returns the tables emptied now."""
    await ensure_checkpoint_table(endpoint)
    emptied: list[str] = []
    target = await open_target(endpoint, OnConflict.ERROR)
    try:
        if isinstance(target, PgTarget):
            emptied = await _truncate_pg(target, endpoint, migration_uid, mappings)
        else:
            for mapping in mappings:
                table = qualified(endpoint.dialect, mapping.target_schema, mapping.target_table)
                if await asyncio.to_thread(
                    _truncate_sync, target, table, migration_uid, marker(mapping.qualified_target)
                ):
                    emptied.append(mapping.qualified_target)
    finally:
        await close_target(target)
    return emptied


async def _truncate_pg(
    target: PgTarget, endpoint: Endpoint, migration_uid: str, mappings: Sequence[TableMapping]
) -> list[str]:
    """All pending tables in ONE `TRUNCATE a, b, …`: PostgreSQL refuses to truncate a table that
    another table references unless both are in the same statement (and never cascades to
    tables outside the migration)."""
    sql = checkpoint_sql(endpoint.dialect)
    conn = target.conn
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"!truncate:{migration_uid}")
        pending = [
            m
            for m in mappings
            if await conn.fetchrow(sql.read, migration_uid, marker(m.qualified_target)) is None
        ]
        if not pending:
            return []
        # ONLY: a parent's inheritance children (INHERITS, made after the load) keep their rows.
        tables = ", ".join(
            source_relation(endpoint.dialect, m.target_schema, m.target_table, m.source_only) for m in pending
        )
        await conn.execute(f"TRUNCATE {tables}")
        for mapping in pending:
            unit = marker(mapping.qualified_target)
            await conn.execute(sql.insert_absent, migration_uid, unit, "[]")
            await conn.execute(sql.advance, None, 0, True, migration_uid, unit)
    return [m.qualified_target for m in pending]


def _truncate_sync(target: InsertTarget, table: str, migration_uid: str, unit: str) -> bool:
    sql = target.sql
    target._begin()
    try:
        if target._run(sql.read, (migration_uid, unit)):
            target._rollback()
            return False
        target._run(f"DELETE FROM {table}")  # not TRUNCATE: MySQL's commits implicitly, before the marker
        target._run(sql.insert_absent, (migration_uid, unit, "[]"))
        target._run(sql.advance, (None, 0, True, migration_uid, unit))
        target._commit()
        return True
    except BaseException:
        target._rollback()
        raise
