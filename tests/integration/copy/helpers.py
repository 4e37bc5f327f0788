"""Endpoints and hand-built table mappings for copy tests (ferry.schema builds them in production)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncmy
import asyncpg
import pymysql

from ferry.api.connection import DatabaseConnectionSpec
from ferry.api.migration import Transform
from ferry.copy.endpoints import MySQLEndpoint, PgConnection, PgEndpoint
from ferry.db.credentials import Credentials
from ferry.schema.mapping import ColumnMapping, TableMapping
from ferry.services.planning import Side
from harness.databases import Database


def side(db: Database) -> Side:
    """A migration's side on the test database, as the services take it."""
    spec = DatabaseConnectionSpec.model_validate(
        {"engine": db.engine, "host": db.host, "port": db.port, "database": db.name,
         "credentialsSecretRef": {"name": "unused"}}
    )  # fmt: skip
    return Side(spec, Credentials(db.user, db.password))


def pg_endpoint(db: Database) -> PgEndpoint:
    async def connect() -> PgConnection:
        return await asyncpg.connect(
            host=db.host, port=db.port, user=db.user, password=db.password, database=db.name
        )

    return PgEndpoint(connect)


def mysql_endpoint(db: Database) -> MySQLEndpoint:
    kwargs = {
        "host": db.host,
        "port": db.port,
        "user": db.user,
        "password": db.password,
        "database": db.name,
        "charset": "utf8mb4",
    }

    def connect() -> Any:
        return pymysql.connect(**kwargs)

    async def stream() -> Any:
        return await asyncmy.connect(**kwargs, autocommit=True)

    return MySQLEndpoint(connect, stream)


def table_mapping(
    table: str,
    columns: Sequence[tuple[str, str] | tuple[str, str, str]],
    key: Sequence[str] = ("id",),
    *,
    source_schema: str | None = None,
    target_schema: str | None = "public",
    target_table: str | None = None,
    transforms: dict[str, Transform] | None = None,
    where: str | None = None,
    row_estimate: int = 0,
    not_null: Sequence[str] = (),
) -> TableMapping:
    """Columns as (name, source type[, target type]); the target type defaults to the source type.

    Columns are nullable unless named in `not_null`."""
    transforms = transforms or {}
    cols = tuple(
        ColumnMapping(
            c[0],
            c[0],
            c[1],
            c[2] if len(c) > 2 else c[1],
            c[0] not in not_null,
            transforms.get(c[0]),  # type: ignore[misc]
        )
        for c in columns
    )
    return TableMapping(
        source_schema, table, target_schema, target_table or table, cols, tuple(key), where, row_estimate
    )


def id_table(table: str) -> TableMapping:
    """`public.<table>` with one NOT NULL `id integer` key column, mapped onto itself."""
    return table_mapping(table, [("id", "integer")], source_schema="public", not_null=("id",))


# Every foreign key of a PostgreSQL database, as its definition reads: to compare before and after.
PG_FOREIGN_KEYS = (
    "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
    "WHERE contype = 'f' ORDER BY 1, 2"
)


def pg_exec(db: Database, *statements: str) -> None:
    import psycopg

    with psycopg.connect(db.libpq_dsn(), autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)  # type: ignore[arg-type]


def pg_rows(db: Database, query: str) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(db.libpq_dsn(), autocommit=True) as conn:
        return list(conn.execute(query).fetchall())  # type: ignore[arg-type]


def _mysql_connect(db: Database) -> Any:
    return pymysql.connect(
        host=db.host, port=db.port, user=db.user, password=db.password, database=db.name, charset="utf8mb4",
        autocommit=True,
    )  # fmt: skip


def mysql_exec(db: Database, *statements: str) -> None:
    conn = _mysql_connect(db)
    try:
        with conn.cursor() as cur:
            for statement in statements:
                cur.execute(statement)
    finally:
        conn.close()


def mysql_rows(db: Database, query: str) -> list[tuple[Any, ...]]:
    conn = _mysql_connect(db)
    try:
        with conn.cursor() as cur:
            cur.execute(query)
            return list(cur.fetchall())
    finally:
        conn.close()


PSQL = "/usr/lib/postgresql/15/bin/psql"


def run_pg_script(db: Database, sql: str) -> None:
    import os
    import subprocess

    env = {**os.environ, "PGPASSWORD": db.password}
    subprocess.run(
        [PSQL, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", db.host, "-p", str(db.port), "-U", db.user,
         "-d", db.name],
        input=sql.encode(), env=env, check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip


def run_mysql_script(db: Database, sql: str) -> None:
    import subprocess

    subprocess.run(
        ["mariadb", "-h", db.host, "-P", str(db.port), "-u", db.user, f"-p{db.password}",
         "--default-character-set=utf8mb4", db.name],
        input=sql.encode(), check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip


def pg_tables(db: Database) -> list[tuple[str, list[tuple[str, str]], list[str]]]:
    """(table, [(column, type)], primary key) of every table in schema public, by name."""
    out = []
    tables = """SELECT relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE nspname = 'public' AND relkind = 'r' ORDER BY relname"""
    for (table,) in pg_rows(db, tables):
        cols = pg_rows(
            db,
            f"""SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
                WHERE attrelid = 'public."{table}"'::regclass AND attnum > 0 AND NOT attisdropped
                ORDER BY attnum""",
        )
        key = pg_rows(
            db,
            f"SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
            "AND a.attnum = ANY(i.indkey) "
            f"WHERE i.indrelid = 'public.\"{table}\"'::regclass AND i.indisprimary "
            "ORDER BY array_position(i.indkey::int2[], a.attnum)",
        )
        out.append((table, [(c[0], c[1]) for c in cols], [k[0] for k in key]))
    return out


def mysql_tables(db: Database) -> list[tuple[str, list[tuple[str, str]], list[str]]]:
    conn = pymysql.connect(host=db.host, port=db.port, user=db.user, password=db.password, database=db.name)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() "
                        "AND TABLE_NAME <> '_ferry_checkpoints' ORDER BY TABLE_NAME")  # fmt: skip
            out = []
            for (table,) in cur.fetchall():
                cur.execute(
                    """SELECT COLUMN_NAME, COLUMN_TYPE FROM information_schema.COLUMNS
                       WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s ORDER BY ORDINAL_POSITION""",
                    (table,),
                )
                cols = [(c[0], c[1]) for c in cur.fetchall()]
                cur.execute(
                    "SELECT COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE "
                    "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s AND CONSTRAINT_NAME = 'PRIMARY' "
                    "ORDER BY ORDINAL_POSITION", (table,))  # fmt: skip
                out.append((table, cols, [k[0] for k in cur.fetchall()]))
            return out
    finally:
        conn.close()


def pg_to_pg_mappings(source: Database, target: Database) -> list[TableMapping]:
    """Identity mappings for tables that exist with the same definition on both sides."""
    target_types = {t: cols for t, cols, _ in pg_tables(target)}
    return [
        table_mapping(t, [(c, ty, dict(target_types[t])[c]) for c, ty in cols], key)
        for t, cols, key in pg_tables(source)
        if t in target_types
    ]


def mysql_to_pg_mappings(source: Database, target: Database) -> list[TableMapping]:
    """Tables matched by name without case and underscores, columns by position (Chinook's two scripts)."""
    norm = lambda s: s.lower().replace("_", "")  # noqa: E731
    targets = {norm(t): (t, cols) for t, cols, _ in pg_tables(target)}
    out = []
    for t, cols, key in mysql_tables(source):
        target_table, target_cols = targets[norm(t)]
        columns = tuple(
            ColumnMapping(sc, tc, sty, tty, True)
            for (sc, sty), (tc, tty) in zip(cols, target_cols, strict=True)
        )
        out.append(TableMapping(None, t, "public", target_table, columns, tuple(key)))
    return out


class DictSecrets:
    """A SecretSource over a dict {(secret, key): value}."""

    def __init__(self, values: dict[tuple[str, str], str]) -> None:
        self.values = values

    def get(self, name: str, key: str) -> str:
        return self.values[(name, key)]
