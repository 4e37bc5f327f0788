"""Validation results on the target: one row per (migration UID, validation run, key range).

The validation Job's pods write here and the operator only reads, as with the copy's
checkpoints (ferry.copy.checkpoint_sql): the result lives next to the data it describes, it
needs no Kubernetes permission beyond what the worker has, its size does not depend on the
Migration's status (a table split into thousands of ranges), and a retried pod skips the
ranges an earlier pod already recorded. A run number keeps the results of a validation after a
repair apart from the one before. On PostgreSQL the table lives in schema `ferry`; on MySQL
and SQLite it is `_ferry_validation` of the target database.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ferry.copy.endpoints import Endpoint, MySQLEndpoint, PgEndpoint, open_mysql, open_pg, open_sqlite
from ferry.copy.reused_sessions import session
from ferry.copy.sql import Dialect

TABLE = "_ferry_validation"
COLUMNS = (
    "migration_uid, run, range_id, table_name, part, bounds, source_rows, target_rows, "
    "checksum_match, difference, repaired, target_digest"
)


@dataclass(frozen=True)
class RangeResult:
    """One key range of one table compared (see ferry.copy.validate_ranges)."""

    range_id: str
    table: str
    part: int
    bounds: str  # JSON [lo, hi] in the source's key form (ferry.copy.keys); [null, null]: whole table
    source_rows: int
    target_rows: int
    checksum_match: bool | None  # None: counts only
    first_difference: str | None  # the first differing chunk's keys, "table" when unordered
    repaired: bool = False  # copied again (ferry.copy.repair) before this comparison
    ordered: bool = False  # compared in key order (not stored: the operator does not need it)
    target_digest: str | None = None  # of the target's rows, when they matched (ferry.copy.validate)

    @property
    def ok(self) -> bool:
        return self.source_rows == self.target_rows and self.checksum_match is not False


def _relation(dialect: Dialect) -> str:
    if dialect == "postgresql":
        return f'ferry."{TABLE}"'
    return f"`{TABLE}`" if dialect == "mysql" else f'"{TABLE}"'


def _marks(dialect: Dialect, n: int) -> list[str]:
    if dialect == "postgresql":
        return [f"${i + 1}" for i in range(n)]
    return ["%s" if dialect == "mysql" else "?"] * n


def create_sql(dialect: Dialect) -> list[str]:
    t = _relation(dialect)
    text = "LONGTEXT" if dialect == "mysql" else "TEXT"
    key = "VARCHAR(190)" if dialect == "mysql" else "TEXT"
    body = (
        f"CREATE TABLE IF NOT EXISTS {t} (migration_uid {key} NOT NULL, run INTEGER NOT NULL, "
        f"range_id {key} NOT NULL, table_name {text} NOT NULL, part INTEGER NOT NULL, "
        f"bounds {text} NOT NULL, "
        "source_rows BIGINT NOT NULL, target_rows BIGINT NOT NULL, checksum_match SMALLINT, "
        f"difference {text}, repaired SMALLINT NOT NULL, target_digest {text}, "
        "PRIMARY KEY (migration_uid, run, range_id))"
    )
    if dialect == "mysql":
        return [body + " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin"]
    if dialect == "postgresql":
        # The validation Job's pods start together and each makes sure the store exists; two
        # concurrent CREATE ... IF NOT EXISTS of one name can both miss it and one fails on the
        # catalog's unique index (seen in bench/validation.py), spending a retry of the Job. The
        # transaction-scoped lock (execute runs these in one transaction) makes them take turns.
        lock = "SELECT pg_advisory_xact_lock(hashtext('ferry._ferry_validation'))"
        return [lock, "CREATE SCHEMA IF NOT EXISTS ferry", body]
    return [body]


def delete_sql(dialect: Dialect) -> str:
    m = _marks(dialect, 3)
    where = f"migration_uid = {m[0]} AND run = {m[1]} AND range_id = {m[2]}"
    return f"DELETE FROM {_relation(dialect)} WHERE {where}"


def insert_sql(dialect: Dialect) -> str:
    return f"INSERT INTO {_relation(dialect)} ({COLUMNS}) VALUES ({', '.join(_marks(dialect, 12))})"


def read_sql(dialect: Dialect) -> str:
    m = _marks(dialect, 2)
    return (
        f"SELECT {COLUMNS} FROM {_relation(dialect)} WHERE migration_uid = {m[0]} AND run = {m[1]} "
        "ORDER BY table_name, part"
    )


def clear_sql(dialect: Dialect) -> str:
    return f"DELETE FROM {_relation(dialect)} WHERE migration_uid = {_marks(dialect, 1)[0]}"


async def execute(endpoint: Endpoint, statements: Sequence[tuple[str, Sequence[object]]]) -> list[Any]:
    """Run statements in one transaction on any target; the rows of the last one."""
    if isinstance(endpoint, PgEndpoint):
        # inside validation's ranges, a reused session (a new one per stored range before)
        async with session(endpoint, open_pg) as conn, conn.transaction():
            rows: list[Any] = []
            for sql, params in statements:
                rows = [tuple(r) for r in await conn.fetch(sql, *params)]
            return rows
    if isinstance(endpoint, MySQLEndpoint):
        mconn = await open_mysql(endpoint)

        def run_mysql() -> list[Any]:
            try:
                with mconn.cursor() as cur:
                    for sql, params in statements:
                        cur.execute(sql, tuple(params))
                    out = [tuple(r) for r in cur.fetchall()]
                mconn.commit()
                return out
            finally:
                mconn.close()

        return await asyncio.to_thread(run_mysql)
    sconn = await open_sqlite(endpoint)

    def run_sqlite() -> list[Any]:
        try:
            sconn.execute("BEGIN IMMEDIATE")
            cur = None
            for sql, params in statements:
                cur = sconn.execute(sql, tuple(params))
            out = [tuple(r) for r in cur.fetchall()] if cur is not None else []
            sconn.execute("COMMIT")
            return out
        finally:
            sconn.close()

    return await asyncio.to_thread(run_sqlite)


async def ensure_store(endpoint: Endpoint) -> None:
    await execute(endpoint, [(sql, ()) for sql in create_sql(endpoint.dialect)])


def _flag(value: bool | None) -> int | None:
    return None if value is None else int(value)


async def record(endpoint: Endpoint, uid: str, run: int, result: RangeResult) -> None:
    """Store one range's result of run `run` (replacing an earlier pod's of the same range)."""
    dialect = endpoint.dialect
    row = (
        uid, run, result.range_id, result.table, result.part, result.bounds, result.source_rows,
        result.target_rows, _flag(result.checksum_match), result.first_difference, int(result.repaired),
        result.target_digest,
    )  # fmt: skip
    await execute(endpoint, [(delete_sql(dialect), (uid, run, result.range_id)), (insert_sql(dialect), row)])


def _result(row: Sequence[Any]) -> RangeResult:
    match = None if row[8] is None else bool(row[8])
    return RangeResult(
        str(row[2]), str(row[3]), int(row[4]), str(row[5]), int(row[6]), int(row[7]), match,
        None if row[9] is None else str(row[9]), bool(row[10]),
        target_digest=None if row[11] is None else str(row[11]),
    )  # fmt: skip


async def read_results(endpoint: Endpoint, uid: str, run: int) -> list[RangeResult]:
    """Every recorded range of run `run`, by table and part; none when the store does not exist."""
    await ensure_store(endpoint)
    rows = await execute(endpoint, [(read_sql(endpoint.dialect), (uid, run))])
    return [_result(r) for r in rows]


async def clear_results(endpoint: Endpoint, uid: str) -> None:
    await ensure_store(endpoint)
    await execute(endpoint, [(clear_sql(endpoint.dialect), (uid,))])
