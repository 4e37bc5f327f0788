"""MySQL/MariaDB catalog queries for what is not a table, and for what the data decides.

- Views with their definitions (`information_schema.VIEWS.VIEW_DEFINITION`), triggers,
  procedures, functions and events: the plan translates a view or names the object as not
  carried (ferry.schema.source_objects), so nothing of the source is left out silently.
- TIME columns: whether any value lies outside 00:00:00-23:59:59 (MySQL TIME is a duration,
  -838:59:59 to 838:59:59), one aggregate query per table with TIME columns.
"""

from __future__ import annotations

from dataclasses import replace

import sqlalchemy as sa

from ferry.schema.model import Column, SourceObject

_VIEWS = sa.text(
    """
    SELECT TABLE_NAME AS name, VIEW_DEFINITION AS definition
    FROM information_schema.VIEWS WHERE TABLE_SCHEMA = :schema ORDER BY TABLE_NAME
    """
)
_TRIGGERS = sa.text(
    """
    SELECT TRIGGER_NAME AS name, EVENT_OBJECT_TABLE AS table_name
    FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = :schema ORDER BY TRIGGER_NAME
    """
)
_ROUTINES = sa.text(
    """
    SELECT LOWER(ROUTINE_TYPE) AS kind, ROUTINE_NAME AS name
    FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = :schema ORDER BY ROUTINE_TYPE, ROUTINE_NAME
    """
)
_EVENTS = sa.text(
    "SELECT EVENT_NAME AS name FROM information_schema.EVENTS WHERE EVENT_SCHEMA = :schema "
    "ORDER BY EVENT_NAME"
)
_ROUTINE_KINDS = {"procedure", "function", "package", "package body"}


def objects(conn: sa.Connection, schema: str) -> tuple[SourceObject, ...]:
    """Views (with their definitions), triggers, routines and events of `schema`, by kind and name."""
    found = [
        SourceObject("view", r["name"], definition=r["definition"])
        for r in conn.execute(_VIEWS, {"schema": schema}).mappings()
    ]
    found += [
        SourceObject("trigger", r["name"], table=r["table_name"])
        for r in conn.execute(_TRIGGERS, {"schema": schema}).mappings()
    ]
    found += [
        SourceObject(str(r["kind"]) if r["kind"] in _ROUTINE_KINDS else "routine", r["name"])
        for r in conn.execute(_ROUTINES, {"schema": schema}).mappings()
    ]
    found += [SourceObject("event", r["name"]) for r in conn.execute(_EVENTS, {"schema": schema}).mappings()]
    return tuple(found)


def is_time(column: Column) -> bool:
    return column.type == "time" or column.type.startswith("time(")


def with_time_overflow(conn: sa.Connection, table: str, columns: list[Column]) -> list[Column]:
    """Columns with `time_overflow` set for each TIME column holding a value outside
    00:00:00-23:59:59. One scan of the table for all its TIME columns; tables without TIME
    columns are not read."""
    times = [c for c in columns if is_time(c)]
    if not times:
        return columns
    name = "`" + table.replace("`", "``") + "`"
    checks = []
    for column in times:
        quoted = "`" + column.name.replace("`", "``") + "`"
        checks.append(f"COALESCE(MAX({quoted} < '00:00:00' OR {quoted} >= '24:00:00'), 0)")
    row = conn.execute(sa.text(f"SELECT {', '.join(checks)} FROM {name}")).one()
    overflow = {c.name: bool(v) for c, v in zip(times, row, strict=True)}
    return [replace(c, time_overflow=True) if overflow.get(c.name) else c for c in columns]
