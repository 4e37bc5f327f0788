"""Which PostgreSQL sequences a migration keeps as sequences, and which column draws from which.

Sequences that stay sequences (PostgreSQL to PostgreSQL): a sequence no column owns, or one
that several columns' defaults use, is created on the target and the columns keep their
`nextval()` default, so a shared sequence stays one sequence. A sequence owned by the one
column that uses it (serial, identity) becomes that column's identity. What their values
become after the load is ferry.schema.sequence_resets.
"""

from __future__ import annotations

import re

from ferry.schema.model import Column, DatabaseSchema, Sequence

_NEXTVAL = re.compile(r"^nextval\('((?:[^']|'')+)'(?:::regclass)?\)$", re.IGNORECASE)


def nextval_sequence(default: str | None) -> str | None:
    """`nextval('shop."Order_seq"'::regclass)` -> `Order_seq`: the sequence a default draws from."""
    match = _NEXTVAL.match((default or "").strip())
    if not match:
        return None
    name = match[1].replace("''", "'")
    parts = re.findall(r'"((?:[^"]|"")*)"|([^."]+)', name)
    last = parts[-1] if parts else ("", name)
    return last[0].replace('""', '"') if last[0] else last[1].lower()


def sequence_users(source: DatabaseSchema) -> dict[str, list[str]]:
    """Sequence name -> the "table.column"s whose default draws from it."""
    users: dict[str, list[str]] = {}
    for table in source.tables.values():
        for col in table.columns:
            name = nextval_sequence(col.default)
            if name is not None:
                users.setdefault(name, []).append(f"{table.name}.{col.name}")
    return users


def kept_sequences(source: DatabaseSchema) -> dict[str, Sequence]:
    """The source sequences that stay sequences on a PostgreSQL target: owned by no column, or
    used by a column other than their owner (a shared sequence)."""
    users = sequence_users(source)
    return {
        name: seq
        for name, seq in source.sequence_defs.items()
        if seq.owned_by is None or users.get(name, []) not in ([], [seq.owned_by])
    }


def owned_sequence(source: DatabaseSchema, table: str, column: Column) -> str | None:
    """The sequence behind a serial or identity column (or the one its default draws from)."""
    owner = f"{table}.{column.name}"
    owned = next((s.name for s in source.sequence_defs.values() if s.owned_by == owner), None)
    return owned or nextval_sequence(column.default)
