"""PostgreSQL objects beyond tables, read from the catalogs as the statements that create them.

One module per object family, each with one job: its catalog query and how its rows become
`PgObject`s. The server's own deparse functions (pg_get_functiondef, pg_get_viewdef,
pg_get_triggerdef, pg_get_constraintdef, pg_get_expr) print the definitions, as pg_dump does;
`ferry.schema.objects_plan` compares them with the target's and makes the operations.

Objects owned by an extension are left out everywhere: `CREATE EXTENSION` brings them.
"""

from __future__ import annotations

import sqlalchemy as sa

from ferry.schema.model import PgObject
from ferry.schema.pg_objects import (
    casts,
    comments,
    extensions,
    named,
    policies,
    routines,
    rules,
    sequences,
    tables,
    text_search,
    triggers,
    types,
    views,
)


def read_objects(conn: sa.Connection, schema: str) -> tuple[PgObject, ...]:
    """Every carried object of `schema`, in creation order within each kind."""
    out: list[PgObject] = []
    families = (extensions, text_search, types, sequences, routines, casts, tables, views, triggers, rules)
    for family in (*families, policies, comments, named):
        out += family.read(conn, schema)
    return tuple(out)


def available_extensions(conn: sa.Connection) -> tuple[str, ...]:
    return extensions.available(conn)
