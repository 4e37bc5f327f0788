"""Load small SQL case files into the test databases, statement by statement (dumps: harness.datasets)."""

from __future__ import annotations

import re

import psycopg
import pymysql
import sqlalchemy as sa

from harness.databases import Database


def engine_for(db: Database) -> sa.Engine:
    return sa.create_engine(db.sqlalchemy_url(), poolclass=sa.NullPool)


def split_statements(sql: str) -> list[str]:
    """Statements end with `;` at the end of a line (case files are written that way)."""
    parts = re.split(r";\s*$", sql, flags=re.MULTILINE)
    return [
        p.strip()
        for p in parts
        if p.strip() and not all(line.strip().startswith("--") for line in p.strip().splitlines())
    ]


def run_sql(db: Database, sql: str) -> None:
    if not sql.strip():
        return
    if db.engine == "postgresql":
        with psycopg.connect(db.libpq_dsn(), autocommit=True) as conn:
            conn.execute(sql.encode())  # no parameters: the simple protocol runs many statements
        return
    conn = pymysql.connect(host=db.host, port=db.port, user=db.user, password=db.password, database=db.name)
    with conn, conn.cursor() as cur:
        for stmt in split_statements(sql):
            cur.execute(stmt)
        conn.commit()
