"""The SQL of the PostgreSQL capture: catalog checks, publication, slot, peeking and advancing.

Tables are passed as two arrays (schema or NULL, name) and resolved with `to_regclass`, so an
unqualified name follows the connection's search_path as the copy's reads do.
"""

from __future__ import annotations

from typing import Final

# The selected tables as the catalog has them: NULL oid for a table that does not exist.
TABLES: Final = """
SELECT t.ord, c.oid::int8 AS oid, n.nspname, c.relname, c.relkind, c.relreplident,
       pg_has_role(current_user, c.relowner, 'USAGE') AS owned,
       (SELECT array_agg(a.attname::text ORDER BY a.attnum)
          FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
         WHERE i.indrelid = c.oid AND i.indisprimary) AS primary_key,
       (SELECT array_agg(a.attname::text ORDER BY a.attnum)
          FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
         WHERE i.indrelid = c.oid AND i.indisreplident) AS identity_index,
       (SELECT array_agg(a.attname::text ORDER BY a.attnum)
          FROM pg_attribute a
         WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated <> '')
         AS generated
FROM unnest(%(schemas)s::text[], %(names)s::text[]) WITH ORDINALITY AS t(schema_name, table_name, ord)
LEFT JOIN pg_class c ON c.oid = to_regclass(
    CASE WHEN t.schema_name IS NULL THEN quote_ident(t.table_name)
         ELSE quote_ident(t.schema_name) || '.' || quote_ident(t.table_name) END)
LEFT JOIN pg_namespace n ON n.oid = c.relnamespace
ORDER BY t.ord
"""

# Unique indexes a table could use as REPLICA IDENTITY USING INDEX: valid, not partial, not
# deferrable, on plain columns (PostgreSQL also needs them NOT NULL, which ferry's keys are).
IDENTITY_CANDIDATES: Final = """
SELECT ic.relname AS index_name,
       array_agg(a.attname::text ORDER BY a.attnum) AS columns
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
WHERE i.indrelid = %(oid)s::oid AND i.indisunique AND i.indisvalid AND i.indimmediate
  AND i.indpred IS NULL AND i.indexprs IS NULL
GROUP BY ic.relname
ORDER BY ic.relname
"""

ROLE: Final = """
SELECT current_user::text AS name, r.rolsuper, r.rolreplication,
       has_database_privilege(current_database(), 'CREATE') AS create_in_database,
       current_database()::text AS database
FROM pg_roles r WHERE r.rolname = current_user
"""

WAL_LEVEL: Final = "SELECT current_setting('wal_level')"

SLOT_COUNT: Final = """
SELECT current_setting('max_replication_slots')::int AS max_slots,
       (SELECT count(*) FROM pg_replication_slots)::int AS used,
       EXISTS (SELECT 1 FROM pg_replication_slots WHERE slot_name = %(slot)s) AS ours
"""

# Published columns of followed tables (what pgoutput's Relation messages list).
COLUMNS: Final = """
SELECT a.attrelid::int8 AS oid, a.attname::text AS name, a.atttypid::int8 AS type_oid, a.atttypmod
FROM pg_attribute a
WHERE a.attrelid = ANY (%(oids)s::oid[]) AND a.attnum > 0 AND NOT a.attisdropped AND a.attgenerated = ''
ORDER BY a.attrelid, a.attnum
"""

# The insert position, not pg_current_wal_lsn() (the write position): with asynchronous commit
# a transaction can have committed with its commit record not written out yet, and a cutover
# position must lie past every commit made before it was asked for.
CURRENT_LSN: Final = "SELECT pg_current_wal_insert_lsn()::text"

# What the peek reads up to: it decodes until the WAL flushed when it starts.
FLUSH_LSN: Final = "SELECT pg_current_wal_flush_lsn()::text"

# The publication, its tables, and the columns its tables had when the capture started (kept as
# the publication's comment, see ferry.cdc.pg_capture).
PUBLICATION: Final = """
SELECT p.pubviaroot, coalesce(array_agg(r.prrelid::int8) FILTER (WHERE r.prrelid IS NOT NULL), '{}') AS oids,
       obj_description(p.oid, 'pg_publication') AS baseline
FROM pg_publication p LEFT JOIN pg_publication_rel r ON r.prpubid = p.oid
WHERE p.pubname = %(name)s
GROUP BY p.oid, p.pubviaroot
"""

COMMENT_PUBLICATION: Final = "COMMENT ON PUBLICATION {name} IS {baseline}"

SLOT: Final = """
SELECT s.plugin::text, s.slot_type, s.database::text, s.database = current_database() AS here,
       s.confirmed_flush_lsn::text, s.restart_lsn::text, s.active, s.active_pid,
       s.wal_status, s.safe_wal_size, (pg_current_wal_lsn() - s.restart_lsn)::int8 AS retained_bytes
FROM pg_replication_slots s WHERE s.slot_name = %(slot)s
"""

CREATE_SLOT: Final = "SELECT lsn::text FROM pg_create_logical_replication_slot(%(slot)s, 'pgoutput')"

DROP_SLOT: Final = "SELECT pg_drop_replication_slot(%(slot)s)"

TERMINATE: Final = "SELECT pg_terminate_backend(%(pid)s)"

ADVANCE: Final = "SELECT end_lsn::text FROM pg_replication_slot_advance(%(slot)s, %(lsn)s::pg_lsn)"

# A holdable cursor: DECLARE runs the peek to the end (the function materializes its rows on the
# server, spilling to disk past work_mem) and no transaction stays open while the rows are read.
# SCROLL lets the reader look a large transaction's Commit up and come back.
PEEK: Final = """
DECLARE {cursor} SCROLL CURSOR WITH HOLD FOR
SELECT data, xid::text::int8 FROM pg_logical_slot_peek_binary_changes(
    %(slot)s, NULL, %(rows)s, 'proto_version', '1', 'publication_names', %(publication)s)
"""

FETCH: Final = "FETCH FORWARD {rows} FROM {cursor}"

FETCH_ABSOLUTE: Final = "FETCH ABSOLUTE {row} FROM {cursor}"

MOVE_ABSOLUTE: Final = "MOVE ABSOLUTE {row} IN {cursor}"

CLOSE: Final = "CLOSE {cursor}"
