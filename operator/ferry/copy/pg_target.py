"""PostgreSQL target: COPY FROM STDIN and the checkpoint advance in one transaction.

Per batch: lock the unit's checkpoint row (a second worker on the same unit waits, then
sees a moved checkpoint and stops), COPY the batch, advance the checkpoint, commit. With
onConflict skip/update the batch is COPYed into a session temp table (emptied at commit;
each unit has its own connection, so one stage per table)
and moved with INSERT … ON CONFLICT in the same transaction.
"""

from __future__ import annotations

from collections.abc import Sequence

from ferry.api.migration import OnConflict
from ferry.copy.batch import BatchWrite, Checkpoint, ConcurrentWriter, CopyBytes, Payload, RowChunks
from ferry.copy.checkpoint_sql import checkpoint_sql
from ferry.copy.endpoints import PgConnection
from ferry.copy.render import copy_text_chunks
from ferry.copy.sql import qualified, quote_ident
from ferry.copy.units import UnitMismatch, WorkUnit

SQL = checkpoint_sql("postgresql")
STAGE = "_ferry_stage"


async def ensure_checkpoint_table(conn: PgConnection) -> None:
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('ferry._ferry_checkpoints'))")
        for statement in SQL.create:
            await conn.execute(statement)


def _count(status: str) -> int:
    return int(status.split()[-1])


class PgTarget:
    def __init__(self, conn: PgConnection, on_conflict: OnConflict) -> None:
        self.conn = conn
        self.on_conflict = on_conflict

    async def open_unit(self, migration_uid: str, unit: WorkUnit) -> Checkpoint:
        bounds = unit.bounds_text()
        await self.conn.execute(SQL.insert_absent, migration_uid, unit.unit_id, bounds)
        row = await self.conn.fetchrow(SQL.read, migration_uid, unit.unit_id)
        assert row is not None
        if row["bounds"] != bounds:
            raise UnitMismatch(f"unit {unit.unit_id} was started with other bounds; the unit list changed")
        return Checkpoint(row["last_key"], row["rows_copied"], row["done"])

    async def write_batch(self, unit: WorkUnit, write: BatchWrite, payload: Payload) -> int:
        mapping = unit.mapping
        columns = [c.target for c in mapping.columns]
        if isinstance(payload, RowChunks):
            payload = CopyBytes(copy_text_chunks(payload.chunks), "text")
        async with self.conn.transaction():
            row = await self.conn.fetchrow(SQL.lock, write.migration_uid, write.unit_id)
            if row is None or row["done"] or row["last_key"] != write.expected_last_key:
                raise ConcurrentWriter(
                    f"the checkpoint of unit {write.unit_id} moved: another worker copies it"
                )
            if self.on_conflict == OnConflict.ERROR:
                status = await self.conn.copy_to_table(
                    mapping.target_table,
                    schema_name=mapping.target_schema,
                    columns=columns,
                    source=payload.chunks,
                    format=payload.format,
                )
            else:
                status = await self._copy_staged(unit, columns, payload)
            rows = _count(status)
            await self.conn.execute(
                SQL.advance, write.new_last_key, rows, write.done, write.migration_uid, write.unit_id
            )
        return rows

    async def _copy_staged(self, unit: WorkUnit, columns: Sequence[str], payload: CopyBytes) -> str:
        mapping = unit.mapping
        table = qualified("postgresql", mapping.target_schema, mapping.target_table)
        cols = ", ".join(quote_ident("postgresql", c) for c in columns)
        await self.conn.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {STAGE} ON COMMIT DELETE ROWS "
            f"AS SELECT {cols} FROM {table} WITH NO DATA"
        )
        status = await self.conn.copy_to_table(
            STAGE, columns=columns, source=payload.chunks, format=payload.format
        )
        await self.conn.execute(insert_from_stage(unit, columns, self.on_conflict))
        return status

    async def close(self) -> None:
        await self.conn.close()


def insert_from_stage(unit: WorkUnit, columns: Sequence[str], on_conflict: OnConflict) -> str:
    mapping = unit.mapping
    table = qualified("postgresql", mapping.target_schema, mapping.target_table)
    cols = ", ".join(quote_ident("postgresql", c) for c in columns)
    # OVERRIDING SYSTEM VALUE: an identity column GENERATED ALWAYS takes the copied value, as
    # COPY FROM gives it (accepted, and without effect, on tables without one).
    sql = f"INSERT INTO {table} ({cols}) OVERRIDING SYSTEM VALUE SELECT {cols} FROM {STAGE} "
    if on_conflict == OnConflict.SKIP or not mapping.key:
        return sql + "ON CONFLICT DO NOTHING"
    by_source = {c.source: c.target for c in mapping.columns}
    keys = [by_source.get(k, k) for k in mapping.key]
    updates = [c for c in columns if c not in keys]
    conflict = ", ".join(quote_ident("postgresql", k) for k in keys)
    if not updates:
        return sql + f"ON CONFLICT ({conflict}) DO NOTHING"
    sets = ", ".join(
        f"{quote_ident('postgresql', c)} = EXCLUDED.{quote_ident('postgresql', c)}" for c in updates
    )
    return sql + f"ON CONFLICT ({conflict}) DO UPDATE SET {sets}"
