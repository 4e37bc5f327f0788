"""SQL of the checkpoint table on the target, per dialect.

One row per (migration UID, unit id): the unit's bounds (to detect a changed unit list),
the last committed key (JSON, see ferry.copy.keys), rows copied so far, and whether the
unit is done. It is written in the same transaction as the batch it describes, which is
what makes resume exact. On PostgreSQL it lives in schema `ferry`; MySQL and SQLite have
no schemas inside a database, so it is the table `_ferry_checkpoints` of the target database.
"""

from __future__ import annotations

from dataclasses import dataclass

from ferry.copy.sql import Dialect

TABLE = "_ferry_checkpoints"
PG_SCHEMA = "ferry"
PG_TABLE = f'{PG_SCHEMA}."{TABLE}"'


@dataclass(frozen=True)
class CheckpointSQL:
    create: tuple[str, ...]
    insert_absent: str  # (uid, unit, bounds)
    read: str  # (uid, unit) -> bounds, last_key, rows_copied, done
    lock: str  # (uid, unit) -> last_key, done; locks the row until commit
    advance: str  # (last_key, rows, done, uid, unit)
    clear: str  # (uid,): forget a migration


def checkpoint_sql(dialect: Dialect) -> CheckpointSQL:
    if dialect == "postgresql":
        t = PG_TABLE
        return CheckpointSQL(
            create=(
                f"CREATE SCHEMA IF NOT EXISTS {PG_SCHEMA}",
                f"CREATE TABLE IF NOT EXISTS {t} (migration_uid text NOT NULL, unit_id text NOT NULL, "
                "bounds text NOT NULL, last_key text, rows_copied bigint NOT NULL DEFAULT 0, "
                "done boolean NOT NULL DEFAULT false, updated_at timestamptz NOT NULL DEFAULT now(), "
                "PRIMARY KEY (migration_uid, unit_id))",
            ),
            insert_absent=f"INSERT INTO {t} (migration_uid, unit_id, bounds) VALUES ($1, $2, $3) "
            "ON CONFLICT DO NOTHING",
            read=f"SELECT bounds, last_key, rows_copied, done FROM {t} "
            "WHERE migration_uid = $1 AND unit_id = $2",
            lock=f"SELECT last_key, done FROM {t} WHERE migration_uid = $1 AND unit_id = $2 FOR UPDATE",
            advance=f"UPDATE {t} SET last_key = $1, rows_copied = rows_copied + $2, done = $3, "
            "updated_at = now() WHERE migration_uid = $4 AND unit_id = $5",
            clear=f"DELETE FROM {t} WHERE migration_uid = $1",
        )
    if dialect == "mysql":
        t = f"`{TABLE}`"
        return CheckpointSQL(
            create=(
                f"CREATE TABLE IF NOT EXISTS {t} (migration_uid VARCHAR(190) NOT NULL, "
                "unit_id VARCHAR(190) NOT NULL, bounds LONGTEXT NOT NULL, last_key LONGTEXT, "
                "rows_copied BIGINT NOT NULL DEFAULT 0, done BOOLEAN NOT NULL DEFAULT FALSE, "
                "updated_at TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6), "
                "PRIMARY KEY (migration_uid, unit_id)) "
                "ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin",
            ),
            insert_absent=f"INSERT IGNORE INTO {t} (migration_uid, unit_id, bounds) VALUES (%s, %s, %s)",
            read=f"SELECT bounds, last_key, rows_copied, done FROM {t} "
            "WHERE migration_uid = %s AND unit_id = %s",
            lock=f"SELECT last_key, done FROM {t} WHERE migration_uid = %s AND unit_id = %s FOR UPDATE",
            advance=f"UPDATE {t} SET last_key = %s, rows_copied = rows_copied + %s, done = %s, "
            "updated_at = CURRENT_TIMESTAMP(6) WHERE migration_uid = %s AND unit_id = %s",
            clear=f"DELETE FROM {t} WHERE migration_uid = %s",
        )
    t = f'"{TABLE}"'
    return CheckpointSQL(
        create=(
            f"CREATE TABLE IF NOT EXISTS {t} (migration_uid TEXT NOT NULL, unit_id TEXT NOT NULL, "
            "bounds TEXT NOT NULL, last_key TEXT, rows_copied INTEGER NOT NULL DEFAULT 0, "
            "done INTEGER NOT NULL DEFAULT 0, updated_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP, "
            "PRIMARY KEY (migration_uid, unit_id))",
        ),
        insert_absent=f"INSERT OR IGNORE INTO {t} (migration_uid, unit_id, bounds) VALUES (?, ?, ?)",
        read=f"SELECT bounds, last_key, rows_copied, done FROM {t} WHERE migration_uid = ? AND unit_id = ?",
        # No FOR UPDATE in SQLite: BEGIN IMMEDIATE already holds the database's write lock.
        lock=f"SELECT last_key, done FROM {t} WHERE migration_uid = ? AND unit_id = ?",
        advance=f"UPDATE {t} SET last_key = ?, rows_copied = rows_copied + ?, done = ?, "
        "updated_at = CURRENT_TIMESTAMP WHERE migration_uid = ? AND unit_id = ?",
        clear=f"DELETE FROM {t} WHERE migration_uid = ?",
    )
