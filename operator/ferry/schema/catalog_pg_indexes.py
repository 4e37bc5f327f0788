"""PostgreSQL index definitions and partition keys, which the SQLAlchemy inspector reports only
in part (no DESC, opclasses, INCLUDE, collations; no partition key).

An index is kept as pg_get_indexdef's text from `USING` on, so it can be rendered for another
table name; the indexes behind exclusion constraints are left out (the constraint creates its
own, `ferry.schema.pg_objects.tables`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace

import sqlalchemy as sa

from ferry.schema.model import Table

_INDEXES = sa.text(
    """
    SELECT c.relname AS table_name, i.relname AS name, pg_get_indexdef(i.oid) AS def,
           EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.oid AND k.contype = 'x') AS exclusion
    FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid JOIN pg_class c ON c.oid = x.indrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = :schema AND c.relkind IN ('r', 'p')
    """
)

_PARTITION_KEYS = sa.text(
    """
    SELECT c.relname AS name, pg_get_partkeydef(c.oid) AS key
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = :schema AND c.relkind = 'p' AND NOT c.relispartition
    """
)

_USING = re.compile(r" USING (.*)$", re.DOTALL)


def with_definitions(conn: sa.Connection, schema: str, tables: Mapping[str, Table]) -> dict[str, Table]:
    """`tables` with each index's definition and each partitioned table's partition key."""
    params = {"schema": schema}
    defs: dict[tuple[str, str], str] = {}
    exclusion: set[tuple[str, str]] = set()
    for r in conn.execute(_INDEXES, params).mappings():
        key = (r["table_name"], r["name"])
        match = _USING.search(r["def"])
        if match:
            defs[key] = match.group(1)
        if r["exclusion"]:
            exclusion.add(key)
    keys = {r["name"]: r["key"] for r in conn.execute(_PARTITION_KEYS, params).mappings()}
    out = {}
    for name, table in tables.items():
        indexes = tuple(
            replace(ix, definition=defs.get((name, ix.name)))
            for ix in table.indexes
            if (name, ix.name) not in exclusion
        )
        out[name] = replace(table, indexes=indexes, partition_by=keys.get(name))
    return out
