"""SQLite catalog: declared column types as written, and exact row counts (files are small)."""

from __future__ import annotations

import sqlalchemy as sa

from ferry.schema.model import Column, SourceObject


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def relations(conn: sa.Connection) -> tuple[list[str], list[str]]:
    rows = conn.exec_driver_sql(
        "SELECT name, type FROM sqlite_master WHERE type IN ('table', 'view') AND name NOT LIKE 'sqlite_%' "
        "ORDER BY name"
    ).all()
    return [r[0] for r in rows if r[1] == "table"], [r[0] for r in rows if r[1] == "view"]


def objects(conn: sa.Connection) -> tuple[SourceObject, ...]:
    """Views and triggers: SQLite's SQL is not translated, the plan names them as not carried."""
    rows = conn.exec_driver_sql(
        "SELECT type, name, tbl_name FROM sqlite_master WHERE type IN ('view', 'trigger') "
        "AND name NOT LIKE 'sqlite_%' ORDER BY type DESC, name"
    ).all()
    return tuple(SourceObject(r[0], r[1], table=r[2] if r[0] == "trigger" else None) for r in rows)


def row_count(conn: sa.Connection, table: str) -> int:
    return int(conn.exec_driver_sql(f"SELECT count(*) FROM {_quote(table)}").scalar_one())


def columns(conn: sa.Connection, table: str) -> list[Column]:
    """`PRAGMA table_xinfo`: hidden = 2 or 3 marks generated columns (their expression is not
    exposed by the pragma; it is recorded as the marker text)."""
    rows = conn.exec_driver_sql(f"PRAGMA table_xinfo({_quote(table)})").all()
    pk_columns = [r for r in rows if r[5]]
    out = []
    for _cid, name, decl, notnull, default, pk, hidden in rows:
        # INTEGER PRIMARY KEY is the rowid: SQLite assigns it, so it behaves as auto-increment.
        rowid = bool(pk) and len(pk_columns) == 1 and str(decl).upper() == "INTEGER"
        out.append(
            Column(
                name=name,
                type=" ".join(str(decl or "blob").lower().split()).replace(", ", ","),
                nullable=not notnull and not pk,
                default=default,
                autoincrement=rowid,
                generated="(generated)" if hidden in (2, 3) else None,
            )
        )
    return out
