"""The benchmark's throwaway servers and datasets: PostgreSQL with fsync on, MariaDB, and their URIs.

Reuses the test harness's servers (`harness.databases`, needs PYTHONPATH=tests) with durable
settings: the tests run with fsync off, which would flatter every method and hide the cost of
Ferry's per-batch commits.
"""

from __future__ import annotations

import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from harness.databases import LOGICAL, SUPERUSER_PASSWORD, MariaDBServer, PostgresServer

TABLES = ("orders", "events")
DURABLE = {
    "fsync": "on",
    "synchronous_commit": "on",
    "full_page_writes": "on",
    "max_wal_size": "4GB",  # fewer forced checkpoints while gigabytes are loaded; the same for every method
    "shared_buffers": "256MB",
    # The online scenario (bench.online) follows the source through logical decoding. A little more
    # WAL for every copy method alike.
    **LOGICAL,
}


@dataclass
class Servers:
    pg: PostgresServer
    maria: MariaDBServer | None = None

    def pg_uri(self, dbname: str) -> str:
        pw = quote(SUPERUSER_PASSWORD)
        return f"postgresql://{self.pg.superuser}:{pw}@{self.pg.host}:{self.pg.port}/{dbname}"

    def maria_uri(self, dbname: str) -> str:
        assert self.maria is not None
        pw = quote(SUPERUSER_PASSWORD)
        return f"mysql://{self.maria.admin_user}:{pw}@{self.maria.host}:{self.maria.port}/{dbname}"

    def stop(self) -> None:
        self.pg.stop()
        if self.maria is not None:
            self.maria.stop()


def start_servers(with_mariadb: bool) -> Servers:
    pg = PostgresServer(Path(tempfile.mkdtemp(prefix="ferry-bench-pg-")), settings=DURABLE).start()
    maria = (
        MariaDBServer(Path(tempfile.mkdtemp(prefix="ferry-bench-maria-"))).start() if with_mariadb else None
    )
    return Servers(pg, maria)


def pg_execute(servers: Servers, sql: str, dbname: str = "postgres") -> None:
    with servers.pg.admin(dbname) as conn:
        conn.execute(sql)  # type: ignore[arg-type]


def create_pg_database(servers: Servers, name: str) -> None:
    pg_execute(servers, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    pg_execute(servers, f'CREATE DATABASE "{name}"')


def drop_pg_database(servers: Servers, name: str) -> None:
    pg_execute(servers, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def load_pg_dataset(servers: Servers, dbname: str, scale: float, dataset: Path) -> None:
    create_pg_database(servers, dbname)
    subprocess.run(
        ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-v", f"scale={scale}", "-d", servers.pg_uri(dbname),
         "-f", str(dataset)],
        check=True, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    pg_execute(servers, "CHECKPOINT")


def pg_counts(servers: Servers, dbname: str, schema: str = "public") -> dict[str, int]:
    """Rows per benchmark table; -1 for a table that is missing."""
    counts: dict[str, int] = {}
    with servers.pg.admin(dbname) as conn:
        for table in TABLES:
            exists = conn.execute("SELECT to_regclass(%s)", (f'"{schema}"."{table}"',)).fetchone()
            if exists is None or exists[0] is None:
                counts[table] = -1
                continue
            row = conn.execute(f'SELECT count(*) FROM "{schema}"."{table}"').fetchone()  # type: ignore[arg-type]
            counts[table] = int(row[0]) if row else -1
    return counts


def pg_primary_keys(servers: Servers, dbname: str, schema: str = "public") -> int:
    """How many benchmark tables have a primary key: every method must end with keys in place."""
    with servers.pg.admin(dbname) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_constraint c JOIN pg_class t ON t.oid = c.conrelid "
            "JOIN pg_namespace n ON n.oid = t.relnamespace "
            "WHERE c.contype = 'p' AND n.nspname = %s AND t.relname = ANY(%s)",
            (schema, list(TABLES)),
        ).fetchone()
    return int(row[0]) if row else 0
