"""The YAML bundle `ferry run` copies the benchmark tables with: what a user would write.

Schema mode `create` makes the target tables without keys first and adds the primary keys
after the copy (the plan's pre-data and post-data), like the anchors do. Row-count validation
is off because the benchmark counts the rows of every method itself, the same way.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bench.servers import TABLES, Servers
from harness.databases import SUPERUSER_PASSWORD


def _connection(name: str, engine: str, host: str, port: int, database: str, user: str) -> dict[str, Any]:
    return {
        "apiVersion": "ferry.dev/v1alpha1",
        "kind": "DatabaseConnection",
        "metadata": {"name": name},
        "spec": {
            "engine": engine, "host": host, "port": port, "database": database,
            "credentialsSecretRef": {
                "name": "bench", "usernameKey": f"{name}-user", "passwordKey": "password",
            },
        },
    }  # fmt: skip


def write_bundle(
    path: Path,
    servers: Servers,
    source_engine: str,
    source_db: str,
    target_db: str,
    *,
    parallelism: int,
    batch_size: int | None,
    tables: tuple[str, ...] | None = TABLES,
    validate: bool = False,
) -> Path:
    """`tables=None` selects every table; `validate` turns on row counts and checksums (`make compare`)."""
    pg = servers.pg
    if source_engine == "postgresql":
        src = _connection("src", "postgresql", pg.host, pg.port, source_db, pg.superuser)
        src_user, src_schema = pg.superuser, "public"
    else:
        assert servers.maria is not None
        m = servers.maria
        src = _connection("src", "mariadb", m.host, m.port, source_db, m.admin_user)
        src_user, src_schema = m.admin_user, None
    dst = _connection("dst", "postgresql", pg.host, pg.port, target_db, pg.superuser)
    copy: dict[str, Any] = {"parallelism": parallelism}
    if batch_size is not None:
        copy["batchSize"] = batch_size
    source: dict[str, Any] = {"connectionRef": {"name": "src"}}
    if src_schema:
        source["schema"] = src_schema
    docs = [
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "bench"},
            "stringData": {"src-user": src_user, "dst-user": pg.superuser, "password": SUPERUSER_PASSWORD},
        },
        src,
        dst,
        {
            "apiVersion": "ferry.dev/v1alpha1",
            "kind": "Migration",
            "metadata": {"name": "bench"},
            "spec": {
                "source": source,
                "target": {"connectionRef": {"name": "dst"}, "schema": "public"},
                **({"tables": {"include": list(tables)}} if tables is not None else {}),
                "schema": {"mode": "create"},
                "copy": copy,
                "validation": {"rowCount": validate, "checksum": validate},
            },
        },
    ]
    path.write_text(yaml.safe_dump_all(docs, sort_keys=False))
    return path
