"""Load the shared sample datasets (Chinook) and generated tables into test databases."""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import psycopg

from harness.databases import PG_BIN, Database

SHARED = Path(__file__).resolve().parents[3] / "shared"
CHINOOK = SHARED / "datasets" / "chinook"


def load_dump_postgresql(
    db: Database, path: Path, *, drop: tuple[str, ...] = (), replace: dict[str, str] | None = None
) -> None:
    """Load a dump with psql, without its CREATE DATABASE / \\c lines (the database is given) and
    without the `-- Name:` blocks that mention any word of `drop` (an extension not installed);
    `replace` swaps text first (stand-ins for newer-server syntax)."""
    text = re.sub(r"(?m)^(DROP DATABASE|CREATE DATABASE|\\c ).*$", "", path.read_text())
    for old, new in (replace or {}).items():
        text = text.replace(old, new)
    if drop:
        blocks = re.split(r"\n(?=--\n-- Name: )", text)
        text = "\n".join(b for b in blocks if not any(word in b for word in drop))
    psql = [str(PG_BIN / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1"]
    address = ["-h", db.host, "-p", str(db.port), "-U", db.user, "-d", db.name]
    env = {**os.environ, "PGPASSWORD": db.password}
    subprocess.run([*psql, *address], input=text.encode(), env=env, check=True, stdout=subprocess.DEVNULL)


def load_dump_mariadb(db: Database, path: Path) -> None:
    text = re.sub(r"(?m)^(DROP DATABASE|CREATE DATABASE|USE ).*$", "", path.read_text(encoding="utf-8"))
    subprocess.run(
        ["mariadb", "-h", db.host, "-P", str(db.port), "-u", db.user, f"-p{db.password}", db.name],
        input=text.encode(),
        check=True,
        stdout=subprocess.DEVNULL,
    )


def load_chinook(db: Database) -> None:
    if db.engine == "postgresql":
        load_dump_postgresql(db, CHINOOK / "Chinook_PostgreSql.sql")
    else:
        load_dump_mariadb(db, CHINOOK / "Chinook_MySql.sql")


def add_generated_table(db: Database, rows: int, name: str = "readings") -> None:
    """A narrow PostgreSQL table with `rows` rows, so a copy runs long enough to interrupt."""
    with psycopg.connect(db.libpq_dsn(), autocommit=True) as conn:
        conn.execute(
            f"CREATE TABLE {name} "
            "(id bigint PRIMARY KEY, taken_at timestamptz NOT NULL, value double precision)"
        )
        conn.execute(
            f"INSERT INTO {name} SELECT g, timestamptz '2020-01-01' + g * interval '1 second', g / 7.0 "
            f"FROM generate_series(1, {rows}) g"
        )
        conn.execute(f"ANALYZE {name}")
