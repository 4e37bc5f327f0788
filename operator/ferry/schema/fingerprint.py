"""A cheap digest of a database's schema: it changes when DDL runs, not when rows change.

The operator re-plans a Migration awaiting approval only when this changes on either side (or
its spec does): reflecting both schemas fully every 15 s cost one reflection per Migration per
tick, hundreds of catalog queries on a large schema. One query per engine instead:

- PostgreSQL: every catalog row of the schema that DDL writes (the schema itself, relations,
  columns, defaults, constraints, types and enum labels, routines, triggers, rules) and the
  database's extensions, as `oid:xmin`. Any DDL writes a new row version, so a new `xmin`;
  VACUUM and ANALYZE update pg_class in place (same `xmin`), so row statistics do not count as
  a change. Only the Migration's schema counts: many Migrations into one database, each with a
  schema of its own, do not re-plan each other. (What a plan reads in other schemas, such as a
  type or a foreign key target elsewhere, is left to the longer interval.)
- MariaDB/MySQL: information_schema's description of the tables, columns, indexes, keys,
  checks, views, routines and triggers of the schema, hashed here (no volatile column such as
  TABLE_ROWS, AUTO_INCREMENT or UPDATE_TIME).
- SQLite: `PRAGMA schema_version`, which SQLite bumps on every schema change.

What a plan reads that is not DDL (a table's rows, a sequence's value) is outside this digest;
the operator also re-plans after a longer interval for that (ferry.services.migration).
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa

from ferry.db.dialects import Family, family

PG_FINGERPRINT = """
WITH ns AS (
    SELECT oid FROM pg_namespace WHERE nspname = coalesce(CAST(:schema AS text), current_schema()::text)
),
rels AS (SELECT oid FROM pg_class WHERE relnamespace IN (SELECT oid FROM ns))
SELECT md5(coalesce(string_agg(k, ',' ORDER BY k), '')) FROM (
    SELECT 'n' || n.oid::text || ':' || n.xmin::text
        FROM pg_namespace n WHERE n.oid IN (SELECT oid FROM ns)
    UNION ALL SELECT 'c' || c.oid::text || ':' || c.xmin::text
        FROM pg_class c WHERE c.oid IN (SELECT oid FROM rels)
    UNION ALL SELECT 'a' || a.attrelid::text || '.' || a.attnum::text || ':' || a.xmin::text
        FROM pg_attribute a WHERE a.attrelid IN (SELECT oid FROM rels) AND a.attnum > 0
    UNION ALL SELECT 'd' || d.oid::text || ':' || d.xmin::text
        FROM pg_attrdef d WHERE d.adrelid IN (SELECT oid FROM rels)
    UNION ALL SELECT 'k' || o.oid::text || ':' || o.xmin::text FROM pg_constraint o
        WHERE o.connamespace IN (SELECT oid FROM ns)
    UNION ALL SELECT 't' || t.oid::text || ':' || t.xmin::text
        FROM pg_type t WHERE t.typnamespace IN (SELECT oid FROM ns)
    UNION ALL SELECT 'e' || e.oid::text || ':' || e.xmin::text FROM pg_enum e
        JOIN pg_type t ON t.oid = e.enumtypid WHERE t.typnamespace IN (SELECT oid FROM ns)
    UNION ALL SELECT 'p' || p.oid::text || ':' || p.xmin::text
        FROM pg_proc p WHERE p.pronamespace IN (SELECT oid FROM ns)
    UNION ALL SELECT 'g' || g.oid::text || ':' || g.xmin::text
        FROM pg_trigger g WHERE g.tgrelid IN (SELECT oid FROM rels)
    UNION ALL SELECT 'r' || r.oid::text || ':' || r.xmin::text
        FROM pg_rewrite r WHERE r.ev_class IN (SELECT oid FROM rels)
    UNION ALL SELECT 'x' || x.oid::text || ':' || x.xmin::text FROM pg_extension x
    UNION ALL SELECT 's' || coalesce(CAST(:schema AS text), current_schema()::text)
) AS keys(k)
"""

# (query, whether a server may lack the view: CHECK_CONSTRAINTS is MariaDB 10.2+ and MySQL 8.0.16+)
_MYSQL_QUERIES: tuple[tuple[str, bool], ...] = (
    (
        "SELECT TABLE_NAME, TABLE_TYPE, ENGINE, TABLE_COLLATION, CREATE_OPTIONS, TABLE_COMMENT"
        " FROM information_schema.TABLES WHERE TABLE_SCHEMA = :schema ORDER BY 1",
        False,
    ),
    (
        "SELECT TABLE_NAME, COLUMN_NAME, ORDINAL_POSITION, COLUMN_TYPE, IS_NULLABLE, COLUMN_DEFAULT,"
        " EXTRA, CHARACTER_SET_NAME, COLLATION_NAME, GENERATION_EXPRESSION, COLUMN_COMMENT"
        " FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = :schema ORDER BY 1, 3",
        False,
    ),
    (
        "SELECT TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX, COLUMN_NAME, NON_UNIQUE, SUB_PART, INDEX_TYPE"
        " FROM information_schema.STATISTICS WHERE TABLE_SCHEMA = :schema ORDER BY 1, 2, 3",
        False,
    ),
    (
        "SELECT TABLE_NAME, CONSTRAINT_NAME, ORDINAL_POSITION, COLUMN_NAME, REFERENCED_TABLE_SCHEMA,"
        " REFERENCED_TABLE_NAME, REFERENCED_COLUMN_NAME FROM information_schema.KEY_COLUMN_USAGE"
        " WHERE TABLE_SCHEMA = :schema ORDER BY 1, 2, 3",
        False,
    ),
    (
        "SELECT CONSTRAINT_NAME, UPDATE_RULE, DELETE_RULE FROM information_schema.REFERENTIAL_CONSTRAINTS"
        " WHERE CONSTRAINT_SCHEMA = :schema ORDER BY 1",
        False,
    ),
    (
        "SELECT TABLE_NAME, VIEW_DEFINITION FROM information_schema.VIEWS WHERE TABLE_SCHEMA = :schema"
        " ORDER BY 1",
        False,
    ),
    (
        "SELECT ROUTINE_NAME, ROUTINE_TYPE, LAST_ALTERED FROM information_schema.ROUTINES"
        " WHERE ROUTINE_SCHEMA = :schema ORDER BY 1, 2",
        False,
    ),
    (
        "SELECT TRIGGER_NAME, EVENT_OBJECT_TABLE, ACTION_STATEMENT FROM information_schema.TRIGGERS"
        " WHERE TRIGGER_SCHEMA = :schema ORDER BY 1",
        False,
    ),
    (
        "SELECT CONSTRAINT_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS"
        " WHERE CONSTRAINT_SCHEMA = :schema ORDER BY 1",
        True,
    ),
)


def schema_fingerprint(engine: sa.Engine, schema: str | None = None) -> str:
    """The digest of `schema` (default: the connected database's, PostgreSQL's current schema;
    a schema not created yet digests as empty, so its creation counts; SQLite: the database)."""
    with engine.connect() as conn:
        match family(engine.dialect.name):
            case Family.POSTGRESQL:
                found = conn.execute(sa.text(PG_FINGERPRINT), {"schema": schema}).scalar_one()
                return "pg:" + str(found)
            case Family.MYSQL:
                return "my:" + _mysql(conn, schema)
            case Family.SQLITE:
                return "sqlite:" + str(conn.execute(sa.text("PRAGMA schema_version")).scalar_one())


def _mysql(conn: sa.Connection, schema: str | None) -> str:
    name = schema or conn.execute(sa.text("SELECT DATABASE()")).scalar_one()
    digest = hashlib.sha256()
    for query, optional in _MYSQL_QUERIES:
        try:
            rows = conn.execute(sa.text(query), {"schema": name}).all()
        except sa.exc.ProgrammingError:
            if not optional:
                raise
            conn.rollback()
            continue
        digest.update(repr([tuple(row) for row in rows]).encode())
    return digest.hexdigest()
