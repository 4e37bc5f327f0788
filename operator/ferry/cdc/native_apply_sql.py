"""The SQL of native apply (ferry.cdc.native_apply): the subscription on the target, its progress,
and what decides whether a migration may use it.

Tables are passed as two arrays (schema or NULL, name) and resolved with `to_regclass`, as the
capture's queries do (`ferry.cdc.pg_capture_sql.TABLES`).
"""

from __future__ import annotations

from typing import Final

# PG15: CREATE SUBSCRIPTION needs superuser; PG16+: membership of pg_create_subscription and CREATE
# on the database. The version decides which applies.
ROLE: Final = """
SELECT r.rolsuper, current_setting('server_version_num')::int AS version,
       has_database_privilege(current_database(), 'CREATE') AS can_create
FROM pg_roles r WHERE r.rolname = current_user
"""
CREATE_SUBSCRIPTION_ROLE: Final = "SELECT pg_has_role(current_user, 'pg_create_subscription', 'MEMBER')"

# The mappings' target tables: their names as the catalog has them, the columns the apply worker
# finds rows by (primary key, or the REPLICA IDENTITY index), and every column.
TARGET_TABLES: Final = """
SELECT t.ord, n.nspname, c.relname,
       (SELECT array_agg(a.attname::text ORDER BY a.attnum)
          FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
         WHERE i.indrelid = c.oid
           AND (CASE WHEN c.relreplident = 'i' THEN i.indisreplident ELSE i.indisprimary END))
         AS identity,
       (SELECT array_agg(a.attname::text ORDER BY a.attnum)
          FROM pg_attribute a WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped) AS columns
FROM unnest(%(schemas)s::text[], %(names)s::text[]) WITH ORDINALITY AS t(schema_name, table_name, ord)
LEFT JOIN pg_class c ON c.oid = to_regclass(
    CASE WHEN t.schema_name IS NULL THEN quote_ident(t.table_name)
         ELSE quote_ident(t.schema_name) || '.' || quote_ident(t.table_name) END)
LEFT JOIN pg_namespace n ON n.oid = c.relnamespace
ORDER BY t.ord
"""

# What the capture's publication sends (partitions as their root, with publish_via_partition_root).
PUBLISHED_TABLES: Final = (
    "SELECT schemaname::text, tablename::text FROM pg_publication_tables WHERE pubname = %(name)s"
)

# The subscription and its apply worker (no pid: not running). `subconninfo` is never read: it
# holds the source's password, and only superusers may read it.
SUBSCRIPTION: Final = """
SELECT s.oid::int8 AS oid, s.subenabled AS enabled, s.subslotname::text AS slot_name,
       w.pid AS worker_pid, w.latest_end_lsn::text AS latest_end_lsn, w.latest_end_time,
       w.last_msg_receipt_time, st.apply_error_count
FROM pg_subscription s
LEFT JOIN pg_stat_subscription w ON w.subid = s.oid AND w.relid IS NULL
LEFT JOIN pg_stat_subscription_stats st ON st.subid = s.oid
WHERE s.subname = %(name)s AND s.subdbid = (SELECT oid FROM pg_database WHERE datname = current_database())
"""

# The subscription's replication origin (named pg_<subscription oid>): the end of the last source
# commit applied, advanced in the same target transaction as that commit's rows.
ORIGIN: Final = "SELECT remote_lsn::text FROM pg_replication_origin_status WHERE external_id = %(origin)s"

# Keep the statement (it holds the source's password) out of the target server's log: settable by
# superusers only; elsewhere the server's own settings apply (docs/security.md).
QUIET_LOG: Final = ("SET log_statement = 'none'", "SET log_min_error_statement = 'panic'")

# connect = true: the server connects to the source and reads the publication's tables, which
# proves the target can reach the source. enabled = false: the follower first checks where the
# slot stands. disable_on_error: an apply error stops the worker instead of a retry loop, and the
# follower finds out why (a schema change on the source, or a row the target refuses).
CREATE: Final = (
    "CREATE SUBSCRIPTION {name} CONNECTION {conninfo} PUBLICATION {publication} WITH ("
    "create_slot = false, slot_name = {slot}, copy_data = false, enabled = false, connect = true, "
    "disable_on_error = true)"
)
ENABLE: Final = "ALTER SUBSCRIPTION {name} ENABLE"
DISABLE: Final = "ALTER SUBSCRIPTION {name} DISABLE"
# Detach it from the source's slot, so DROP SUBSCRIPTION leaves the slot to Ferry's own drop.
DETACH: Final = "ALTER SUBSCRIPTION {name} SET (slot_name = NONE)"
DROP: Final = "DROP SUBSCRIPTION IF EXISTS {name}"

# On the source: where the slot stands, and moving it to what Ferry's applier committed.
SLOT_CONFIRMED: Final = (
    "SELECT confirmed_flush_lsn::text, active FROM pg_replication_slots WHERE slot_name = %(slot)s"
)
SLOT_ADVANCE: Final = "SELECT end_lsn::text FROM pg_replication_slot_advance(%(slot)s, %(lsn)s::pg_lsn)"
