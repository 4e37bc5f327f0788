"""What keeps a PostgreSQL source from being followed, each problem one sentence with its fix.

Logical decoding needs `wal_level = logical`, a free replication slot and a role that may create
one (REPLICATION or superuser). The publication needs CREATE on the database and ownership of
every table in it. Applying a change idempotently needs the row's key in the change: PostgreSQL
logs, for an update or delete, only the replica identity's columns, so the identity must be the
key ferry applies by (a primary key under REPLICA IDENTITY DEFAULT, or USING INDEX on that key),
or FULL (the whole old row). PostgreSQL 15 does not publish generated columns at all.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from ferry.cdc import pg_capture_sql as q
from ferry.cdc.names import capture_name
from ferry.schema.mapping import TableMapping

# At most this many tables are named in one sentence (the rest counted).
NAMED_TABLES = 5


@dataclass(frozen=True)
class TableFacts:
    """One selected table as the catalog has it (oid None: it does not exist)."""

    mapping: TableMapping
    oid: int | None
    namespace: str
    name: str
    kind: str  # relkind: 'r' table, 'p' partitioned table
    identity: str  # relreplident
    owned: bool
    primary_key: tuple[str, ...]
    identity_index: tuple[str, ...]
    generated: tuple[str, ...]

    @property
    def label(self) -> str:
        return self.mapping.qualified_source

    def sql_name(self) -> sql.Composable:
        return sql.Identifier(self.namespace, self.name)


def table_facts(conn: psycopg.Connection[Any], mappings: Sequence[TableMapping]) -> list[TableFacts]:
    params = {"schemas": [m.source_schema for m in mappings], "names": [m.source_table for m in mappings]}
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(q.TABLES, params).fetchall()
    return [
        TableFacts(
            mapping=m,
            oid=r["oid"],
            namespace=r["nspname"] or "",
            name=r["relname"] or "",
            kind=r["relkind"] or "",
            identity=r["relreplident"] or "",
            owned=bool(r["owned"]),
            primary_key=tuple(r["primary_key"] or ()),
            identity_index=tuple(r["identity_index"] or ()),
            generated=tuple(r["generated"] or ()),
        )
        for m, r in zip(mappings, rows, strict=True)
    ]


def check_source(
    conn: psycopg.Connection[Any], mappings: Sequence[TableMapping], migration_uid: str | None = None
) -> list[str]:
    """Every problem found, each a sentence naming its fix; [] when the source can be followed.

    `migration_uid`, when given, names the capture that may already exist: its slot is not
    counted against the free slots."""
    problems: list[str] = []
    with conn.cursor(row_factory=dict_row) as cur:
        wal_level = str(cur.execute(q.WAL_LEVEL).fetchone()["current_setting"])  # type: ignore[index]
        role = cur.execute(q.ROLE).fetchone()
        slot = capture_name(migration_uid) if migration_uid else ""
        slots = cur.execute(q.SLOT_COUNT, {"slot": slot}).fetchone()
    assert role is not None and slots is not None
    user = sql_ident(role["name"])
    superuser = bool(role["rolsuper"])
    if wal_level != "logical":
        problems.append(
            f"the source runs with wal_level = {wal_level}, and reading its changes needs "
            "wal_level = logical: ALTER SYSTEM SET wal_level = logical and restart the server "
            "(on a managed service, turn on its logical replication parameter)"
        )
    if not (superuser or role["rolreplication"]):
        problems.append(
            f"role {user} may not create a replication slot: ALTER ROLE {user} REPLICATION "
            "(or connect as a superuser)"
        )
    if not slots["ours"] and slots["used"] >= slots["max_slots"]:
        problems.append(
            f"the source has no free replication slot ({slots['used']} of max_replication_slots = "
            f"{slots['max_slots']} in use): drop slots no longer used (see pg_replication_slots) or "
            "raise max_replication_slots (a restart)"
        )
    if not (superuser or role["create_in_database"]):
        database = sql_ident(role["database"])
        problems.append(
            f"role {user} may not create a publication in database {database}: "
            f"GRANT CREATE ON DATABASE {database} TO {user}"
        )
    facts = table_facts(conn, mappings)
    problems += [p for f in facts for p in table_problems(conn, f)]
    not_owned = [f for f in facts if f.oid is not None and not f.owned]
    if not_owned and not superuser:
        names = ", ".join(f.label for f in not_owned[:NAMED_TABLES])
        more = f" and {len(not_owned) - NAMED_TABLES} more" if len(not_owned) > NAMED_TABLES else ""
        problems.append(
            f"role {user} does not own {names}{more}, and only a table's owner (or a superuser) may "
            f"add it to a publication: connect as the owner, or ALTER TABLE … OWNER TO {user}"
        )
    return problems


def table_problems(conn: psycopg.Connection[Any], facts: TableFacts) -> list[str]:
    label = facts.label
    if facts.oid is None:
        return [f"table {label} does not exist on the source"]
    table = f"{sql_ident(facts.namespace)}.{sql_ident(facts.name)}"
    key = facts.mapping.key
    problems: list[str] = []
    if not key:
        problems.append(
            f"table {label} has no primary key nor unique key of NOT NULL columns, and online mode "
            f"applies every change by key: ALTER TABLE {table} ADD PRIMARY KEY (…)"
        )
    else:
        identity = identity_problem(facts, table, _candidates(conn, facts.oid))
        if identity:
            problems.append(identity)
    generated = [c.source for c in facts.mapping.columns if c.source in facts.generated]
    if generated:
        problems.append(
            f"table {label}: column {', '.join(generated)} is generated, and PostgreSQL does not send "
            "generated columns in logical replication: exclude it from the migration or migrate offline"
        )
    return problems


def _candidates(conn: psycopg.Connection[Any], oid: int) -> dict[str, tuple[str, ...]]:
    with conn.cursor(row_factory=dict_row) as cur:
        rows = cur.execute(q.IDENTITY_CANDIDATES, {"oid": oid}).fetchall()
    return {r["index_name"]: tuple(r["columns"]) for r in rows}


def identity_problem(
    facts: TableFacts, table: str, unique_indexes: Mapping[str, Sequence[str]]
) -> str | None:
    """Why PostgreSQL would not log the key ferry applies by for updates and deletes; None when it
    does. `unique_indexes`: the table's unique indexes usable as replica identity, by name."""
    key = set(facts.mapping.key)
    key_text = ", ".join(facts.mapping.key)
    if facts.identity == "f":
        return None
    if facts.identity == "d" and set(facts.primary_key) == key:
        return None
    if facts.identity == "i" and set(facts.identity_index) == key:
        return None
    index = next((name for name, cols in unique_indexes.items() if set(cols) == key), None)
    use_index = f"ALTER TABLE {table} REPLICA IDENTITY USING INDEX {sql_ident(index)}, or " if index else ""
    full = f"ALTER TABLE {table} REPLICA IDENTITY FULL"
    label = facts.label
    if facts.identity == "n":
        return (
            f"table {label} has REPLICA IDENTITY NOTHING, so PostgreSQL logs no key for its updated "
            f"and deleted rows: {use_index}{full}"
        )
    if facts.identity == "d" and not facts.primary_key:
        return (
            f"table {label} has no primary key, so PostgreSQL logs no key for its updated and deleted "
            f"rows: ALTER TABLE {table} ADD PRIMARY KEY ({key_text}), or {use_index}{full}"
        )
    logged = facts.primary_key if facts.identity == "d" else facts.identity_index
    return (
        f"table {label}: PostgreSQL logs its replica identity ({', '.join(logged)}) for updated and "
        f"deleted rows, not the key ferry applies changes by ({key_text}): {use_index}{full}"
    )


def sql_ident(name: str | None) -> str:
    """A name as SQL text, quoted only when it needs to be (for fixes shown to people)."""
    if name is None:
        return ""
    if name.isidentifier() and name == name.lower() and name.isascii():
        return name
    return '"' + name.replace('"', '""') + '"'
