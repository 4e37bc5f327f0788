"""Sequences that are not an identity column's: the plan creates one only when a carried column
default calls nextval() on it (a serial column of a partitioned table, which PostgreSQL 15
cannot make an identity column, or a sequence shared by several tables). Its value after the
load is not set here."""

from __future__ import annotations

import sqlalchemy as sa

from ferry.schema.model import PgObject

_SEQUENCES = sa.text(
    """
    SELECT c.relname AS name,
           format('CREATE SEQUENCE %I.%I AS %s INCREMENT BY %s MINVALUE %s MAXVALUE %s START WITH %s '
                  'CACHE %s%s',
                  n.nspname, c.relname, format_type(s.seqtypid, NULL), s.seqincrement, s.seqmin, s.seqmax,
                  s.seqstart, s.seqcache, CASE WHEN s.seqcycle THEN ' CYCLE' ELSE '' END) AS stmt
    FROM pg_sequence s JOIN pg_class c ON c.oid = s.seqrelid JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE n.nspname = :schema
      AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass AND d.objid = c.oid
                      AND d.deptype IN ('i', 'e'))
    ORDER BY c.oid
    """
)


def read(conn: sa.Connection, schema: str) -> list[PgObject]:
    return [
        PgObject("sequence", r["name"], (r["stmt"],))
        for r in conn.execute(_SEQUENCES, {"schema": schema}).mappings()
    ]
