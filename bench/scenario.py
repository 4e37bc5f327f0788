"""What the operator-level scenarios (`make load`, `make soak`, `make worker-rss`) share: a
PostgreSQL source with an `items` table and an empty target one login can write, and writing a
result as JSON next to a short summary on stdout."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.databases import Database, PostgresServer


def items_databases(pg: PostgresServer, rows: int) -> tuple[Database, Database]:
    """A source with `items` (id, name) of `rows` rows and an empty target, both reachable with
    the source's login (a Secret per namespace holds one login for both sides)."""
    src, dst = pg.create_database(), pg.create_database()
    with pg.admin(src.name) as conn:
        conn.execute(
            f'CREATE TABLE items (id int PRIMARY KEY, name text); ALTER TABLE items OWNER TO "{src.user}"'
        )
        conn.execute(f"INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, {int(rows)}) g")
    with pg.admin(dst.name) as conn:
        conn.execute(f'GRANT ALL ON DATABASE "{dst.name}" TO "{src.user}"')
    return src, Database(dst.engine, dst.host, dst.port, dst.name, src.user, src.password)


def write_result(path: Path, result: dict[str, Any], long_key: str) -> None:
    """The whole result to `path`; on stdout all of it but `long_key` (a curve or series)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != long_key}, indent=2))
    print(f"written to {path}")
