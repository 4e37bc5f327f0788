"""MySQL/MariaDB catalog queries (information_schema) for what the inspector loses.

`COLUMN_TYPE` keeps what the type rules need ("tinyint(1)", "int(10) unsigned",
"enum('a','b')", "geometry"); the inspector maps some of these to NullType or LONGTEXT.
MariaDB spells JSON as LONGTEXT plus a `json_valid()` check; we turn that back into `json`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

import sqlalchemy as sa

from ferry.schema.model import Column

_TABLES = sa.text(
    """
    SELECT TABLE_NAME AS name, TABLE_TYPE AS kind, COALESCE(TABLE_ROWS, 0) AS estimate
    FROM information_schema.TABLES WHERE TABLE_SCHEMA = :schema ORDER BY TABLE_NAME
    """
)

_COLUMNS = sa.text(
    """
    SELECT TABLE_NAME AS table_name, COLUMN_NAME AS name, COLUMN_TYPE AS type, DATA_TYPE AS data_type,
           IS_NULLABLE AS nullable, COLUMN_DEFAULT AS default_expr, EXTRA AS extra,
           GENERATION_EXPRESSION AS generation, COLLATION_NAME AS collation
    FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = :schema
    ORDER BY TABLE_NAME, ORDINAL_POSITION
    """
)

_JSON_CHECKS = sa.text(
    """
    SELECT TABLE_NAME AS table_name, CONSTRAINT_NAME AS name, CHECK_CLAUSE AS clause
    FROM information_schema.CHECK_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = :schema
    """
)

_ON_UPDATE = re.compile(r"on update (current_timestamp(?:\(\d*\))?)", re.IGNORECASE)
_INT_WIDTH = re.compile(r"^(tinyint|smallint|mediumint|int|integer|bigint|year)\(\d+\)")
_JSON_VALID = re.compile(r"^json_valid\(`(?P<col>[^`]+)`\)$", re.IGNORECASE)
_TEXTUAL = {"char", "varchar", "tinytext", "text", "mediumtext", "longtext", "enum", "set"}


def normalize_type(column_type: str) -> str:
    """`int(11)` -> `int`, `int(10) unsigned zerofill` -> `int unsigned`, `year(4)` -> `year`;
    `tinyint(1)` keeps its width because it is MySQL's boolean."""
    text = column_type.strip()
    head = text.lower()
    if head.startswith(("enum(", "set(")):
        word = "enum" if head.startswith("enum") else "set"
        return word + text[len(word) :]
    text = head.replace(" zerofill", "")
    if text.startswith("tinyint(1)"):
        return text
    return _INT_WIDTH.sub(r"\1", text)


@dataclass(frozen=True)
class Relations:
    tables: dict[str, int]
    views: list[str]
    sequences: list[str]


def relations(conn: sa.Connection, schema: str) -> Relations:
    out = Relations({}, [], [])
    for row in conn.execute(_TABLES, {"schema": schema}).mappings():
        if row["kind"] == "VIEW":
            out.views.append(row["name"])
        elif row["kind"] == "SEQUENCE":
            out.sequences.append(row["name"])
        else:
            out.tables[row["name"]] = int(row["estimate"])
    return out


def json_check_names(conn: sa.Connection, schema: str) -> dict[tuple[str, str], str]:
    """(table, column) -> name of the `json_valid` check that marks a MariaDB JSON column."""
    out: dict[tuple[str, str], str] = {}
    for row in conn.execute(_JSON_CHECKS, {"schema": schema}).mappings():
        match = _JSON_VALID.match(str(row["clause"]).strip())
        if match:
            out[(row["table_name"], match["col"])] = row["name"]
    return out


def _default(raw: str | None, data_type: str, nullable: bool) -> str | None:
    if raw is None or (raw == "NULL" and nullable):
        return None
    if data_type in _TEXTUAL and not raw.startswith("'") and not raw.endswith(")"):
        return "'" + raw.replace("'", "''") + "'"  # MySQL 8 reports string defaults unquoted
    return raw


def columns(conn: sa.Connection, schema: str, json_columns: set[tuple[str, str]]) -> dict[str, list[Column]]:
    out: dict[str, list[Column]] = {}
    for row in conn.execute(_COLUMNS, {"schema": schema}).mappings():
        extra = str(row["extra"] or "").lower()
        generated = row["generation"] if "generated" in extra and row["generation"] else None
        type_text = normalize_type(row["type"])
        if (row["table_name"], row["name"]) in json_columns and row["data_type"] == "longtext":
            type_text = "json"
        nullable = row["nullable"] == "YES"
        on_update = _ON_UPDATE.search(extra)
        out.setdefault(row["table_name"], []).append(
            Column(
                name=row["name"],
                type=type_text,
                nullable=nullable,
                default=None if generated else _default(row["default_expr"], row["data_type"], nullable),
                autoincrement="auto_increment" in extra,
                generated=generated,
                collation=row["collation"] or None,
                on_update="CURRENT_TIMESTAMP" if on_update else None,
            )
        )
    return out


def with_auto_increment_max(conn: sa.Connection, table: str, columns: list[Column]) -> list[Column]:
    """Columns with the largest value of the AUTO_INCREMENT column filled in (`max_value`).

    An AUTO_INCREMENT column is always the first column of an index, so MAX() is one index
    lookup, cheap enough to run on every plan. The plan reads it to decide whether a BIGINT
    UNSIGNED key fits PostgreSQL's signed bigint.
    """
    out = []
    for column in columns:
        if column.autoincrement:
            quote = "`" + column.name.replace("`", "``") + "`"
            name = "`" + table.replace("`", "``") + "`"
            value = conn.execute(sa.text(f"SELECT MAX({quote}) FROM {name}")).scalar()
            column = replace(column, max_value=None if value is None else int(value))
        out.append(column)
    return out
