"""SQL of the replication bookkeeping table on the PostgreSQL target (ferry.cdc.bookkeeping).

One row per migration UID, in schema `ferry` beside the copy's checkpoints
(`ferry.copy.checkpoint_sql`). Positions are stored as (text, major, minor): the text is what
people read, the numbers are what compares. LSNs are unsigned 64-bit, bigint signed: a source
would need 8 EiB of WAL to overflow it.

Statements with `:name` binds are the sync ones (SQLAlchemy, the CLI and the operator); those
with `$n` run on the follower's asyncpg connection, inside its batch transactions.
"""

from __future__ import annotations

from ferry.copy.checkpoint_sql import PG_SCHEMA

TABLE = f'{PG_SCHEMA}."_ferry_replication"'

CREATE = (
    f"CREATE SCHEMA IF NOT EXISTS {PG_SCHEMA}",
    f"CREATE TABLE IF NOT EXISTS {TABLE} ("
    "migration_uid text PRIMARY KEY, "
    "start_text text NOT NULL, start_major bigint NOT NULL, start_minor bigint NOT NULL, "
    "applied_text text NOT NULL, applied_major bigint NOT NULL, applied_minor bigint NOT NULL, "
    "applied_index bigint NOT NULL DEFAULT 0, applied_complete boolean NOT NULL DEFAULT true, "
    "changes_applied bigint NOT NULL DEFAULT 0, last_commit_time timestamptz, "
    "updated_at timestamptz NOT NULL DEFAULT now(), "
    "cutover_requested_at timestamptz, cutover_max_lag_seconds integer, "
    "cutover_text text, cutover_major bigint, cutover_minor bigint, cutover_reached_at timestamptz, "
    "state text NOT NULL DEFAULT 'CatchingUp', message text NOT NULL DEFAULT '')",
    # Where the initial copy had read everything (ferry.cdc.native_follower): a table made by an
    # earlier Ferry gains the columns here.
    f"ALTER TABLE {TABLE} ADD COLUMN IF NOT EXISTS copy_end_text text, "
    "ADD COLUMN IF NOT EXISTS copy_end_major bigint, ADD COLUMN IF NOT EXISTS copy_end_minor bigint",
)
# Two first runs at once must not race on CREATE SCHEMA / CREATE TABLE IF NOT EXISTS.
CREATE_LOCK = "SELECT pg_advisory_xact_lock(hashtext('ferry._ferry_replication'))"

COLUMNS = (
    "start_text, start_major, start_minor, applied_text, applied_major, applied_minor, applied_index, "
    "applied_complete, changes_applied, last_commit_time, updated_at, cutover_requested_at, "
    "cutover_max_lag_seconds, cutover_text, cutover_major, cutover_minor, cutover_reached_at, state, "
    "message, "
    "copy_end_text, copy_end_major, copy_end_minor"
)

# --- sync (SQLAlchemy text) ---
TABLE_EXISTS = "SELECT to_regclass(:table) IS NOT NULL"
READ = f"SELECT {COLUMNS} FROM {TABLE} WHERE migration_uid = :uid"
# The start is also the first applied position: everything committed at or before it is the
# copy's to read (ferry.cdc: the capture opens at P0, before any row is read).
RECORD_START = (
    f"INSERT INTO {TABLE} (migration_uid, start_text, start_major, start_minor, applied_text, "
    "applied_major, applied_minor) VALUES (:uid, :text, :major, :minor, :text, :major, :minor) "
    "ON CONFLICT (migration_uid) DO NOTHING"
)
# A later request may loosen or tighten the lag bound until the cutover position is taken.
REQUEST_CUTOVER = (
    f"UPDATE {TABLE} SET cutover_requested_at = coalesce(cutover_requested_at, now()), "
    "cutover_max_lag_seconds = CASE WHEN cutover_major IS NULL THEN :max_lag "
    "ELSE cutover_max_lag_seconds END, updated_at = now() WHERE migration_uid = :uid"
)
RECORD_OUTCOME = (
    f"UPDATE {TABLE} SET state = :state, message = :message, updated_at = now() WHERE migration_uid = :uid"
)
# Kept once: a later position is also past the copy, but the first is the least to replay.
RECORD_COPY_END = (
    f"UPDATE {TABLE} SET copy_end_text = :text, copy_end_major = :major, copy_end_minor = :minor, "
    "updated_at = now() WHERE migration_uid = :uid AND copy_end_major IS NULL"
)
FORGET = f"DELETE FROM {TABLE} WHERE migration_uid = :uid"

# --- async (asyncpg, the follower) ---
READ_ASYNC = f"SELECT {COLUMNS} FROM {TABLE} WHERE migration_uid = $1"
# The first statement of every batch transaction: it locks the row and moves the position only
# from where this follower found it, so a second follower of the same migration (a stray
# `ferry run` beside the worker) fails its batch instead of moving the position back.
ADVANCE = (
    f"UPDATE {TABLE} SET applied_text = $2, applied_major = $3, applied_minor = $4, applied_index = $5, "
    "applied_complete = $6, changes_applied = changes_applied + $7, "
    "last_commit_time = coalesce($8, last_commit_time), updated_at = now() "
    "WHERE migration_uid = $1 AND applied_major = $9 AND applied_minor = $10 AND applied_index = $11 "
    "AND applied_complete = $12"
)
# Native apply: the position PostgreSQL's subscription applied up to (its replication origin, which
# commits with the rows), mirrored here for `ferry cutover` and the operator; it only moves forward.
SET_NATIVE_APPLIED = (
    f"UPDATE {TABLE} SET applied_text = $2, applied_major = $3, applied_minor = $4, applied_index = 0, "
    "applied_complete = true, updated_at = now() WHERE migration_uid = $1 AND applied_complete "
    "AND (applied_major, applied_minor) < ($3, $4)"
)
SET_COPY_END_ASYNC = (
    f"UPDATE {TABLE} SET copy_end_text = $2, copy_end_major = $3, copy_end_minor = $4, "
    "updated_at = now() WHERE migration_uid = $1 AND copy_end_major IS NULL"
)
SET_STATE = f"UPDATE {TABLE} SET state = $2, message = $3, updated_at = now() WHERE migration_uid = $1"
SET_CUTOVER_POSITION = (
    f"UPDATE {TABLE} SET cutover_text = $2, cutover_major = $3, cutover_minor = $4, state = $5, "
    "message = '', updated_at = now() WHERE migration_uid = $1 AND cutover_major IS NULL"
)
MARK_CUT_OVER = (
    f"UPDATE {TABLE} SET cutover_reached_at = coalesce(cutover_reached_at, now()), state = $2, "
    "message = '', updated_at = now() WHERE migration_uid = $1"
)
