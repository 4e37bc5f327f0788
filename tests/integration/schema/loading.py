"""Load SQL scripts into the test databases: small case files statement by statement, big dumps by client."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import psycopg
import pymysql
import sqlalchemy as sa

from harness.databases import PG_BIN, Database


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


def load_dump_postgresql(
    db: Database, path: Path, *, drop: tuple[str, ...] = (), replace: dict[str, str] | None = None
) -> None:
    """Load a dump file with psql, without its CREATE DATABASE/\\c lines and without the
    `--`-separated blocks that mention any word of `drop` (an extension that is not installed)."""
    text = path.read_text()
    text = re.sub(r"(?m)^(DROP DATABASE|CREATE DATABASE|\\c ).*$", "", text)
    for old, new in (replace or {}).items():
        text = text.replace(old, new)
    if drop:
        blocks = re.split(r"\n(?=--\n-- Name: )", text)
        text = "\n".join(b for b in blocks if not any(word in b for word in drop))
    env = {**os.environ, "PGPASSWORD": db.password}
    subprocess.run(
        [
            str(PG_BIN / "psql"),
            "-X",
            "-q",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            db.host,
            "-p",
            str(db.port),
            "-U",
            db.user,
            "-d",
            db.name,
        ],
        input=text.encode(),
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def load_dump_mariadb(db: Database, path: Path) -> None:
    text = path.read_text()
    text = re.sub(r"(?m)^(DROP DATABASE|CREATE DATABASE|USE ).*$", "", text)
    subprocess.run(
        ["mariadb", "-h", db.host, "-P", str(db.port), "-u", db.user, f"-p{db.password}", db.name],
        input=text.encode(),
        check=True,
        stdout=subprocess.DEVNULL,
    )
