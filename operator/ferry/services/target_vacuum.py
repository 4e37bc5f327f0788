"""The loaded tables vacuumed and analyzed, on a PostgreSQL target, once the rows are in.

A table just filled by COPY has no planner statistics (until autovacuum's analyze comes round,
the application's queries and validation's key-range reads are planned on defaults: on 1M rows a
range read became a bitmap scan and an external sort to disk), no visibility map (no index-only
scans), and, unless an index was built after the load, rows whose first reader must check their
transaction and write the page again. `VACUUM (ANALYZE)` does all three in one pass over each
table, as `pgcopydb clone` does after its copy (`--skip-vacuum` to not). At 15M rows it took
2.3 to 2.5 s (docs/benchmark.md), and validation after it took as long as without it there (the
primary key built after the load had set the rows' hint bits already).

A table the target's user may not vacuum (not its owner) is skipped by the server with a
warning, which is logged here with the table's name; a vacuum that fails is logged likewise and
the migration goes on: the table is complete, only slower to read until autovacuum does it.
MySQL/MariaDB (InnoDB recomputes its statistics after a large change) and SQLite: nothing.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import sqlalchemy as sa

from ferry.copy.sql import qualified
from ferry.observability.errors import first_line
from ferry.observability.logging import get_logger
from ferry.schema.mapping import TableMapping
from ferry.services.planning import Side, engine_for

log = get_logger(__name__)

# Run as written: VACUUM takes no parameters, and a `%` in a name is not a placeholder.
_VERBATIM = {"no_parameters": True, "isolation_level": "AUTOCOMMIT"}  # VACUUM refuses a transaction


def vacuum_loaded(target: Side, mappings: Sequence[TableMapping]) -> list[str]:
    """VACUUM (ANALYZE) each target table of `mappings`, one after another; returns the tables
    vacuumed (quoted, schema-qualified)."""
    if target.dialect != "postgresql":
        return []
    names = sorted({qualified("postgresql", m.target_schema, m.target_table) for m in mappings})
    done: list[str] = []
    with engine_for(target) as engine, engine.connect().execution_options(**_VERBATIM) as conn:
        warnings: list[str] = []
        driver = conn.connection.driver_connection
        if driver is not None:  # psycopg: the server's WARNING for a table it skipped
            driver.add_notice_handler(lambda notice: warnings.append(str(notice.message_primary)))
        for name in names:
            warnings.clear()
            started = time.monotonic()
            try:
                conn.exec_driver_sql(f"VACUUM (ANALYZE) {name}")
            except sa.exc.DBAPIError as exc:
                log.warning("vacuum failed", table=name, error=first_line(exc.orig or exc))
                continue
            if warnings:
                log.warning("vacuum skipped", table=name, reason=warnings[0])
                continue
            log.info("vacuumed", table=name, seconds=round(time.monotonic() - started, 2))
            done.append(name)
    return done
