"""`ferry run` of a Laravel/WordPress-shaped MariaDB database into PostgreSQL, then the
application's own statements on the target (issue 11): what the plan promised must hold."""

from __future__ import annotations

import psycopg
import pytest

from harness.databases import Database
from integration.copy.helpers import mysql_exec, pg_exec, pg_rows
from integration.copy.test_cli_run import _bundle, _run

pytestmark = pytest.mark.integration

WEB_APP = (
    """CREATE TABLE users (id bigint unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY,
      email varchar(255) COLLATE utf8mb4_unicode_ci NOT NULL, name varchar(255) NOT NULL,
      is_admin tinyint(1) NOT NULL DEFAULT 0, created_at timestamp NULL DEFAULT NULL,
      updated_at timestamp NOT NULL DEFAULT current_timestamp() ON UPDATE current_timestamp(),
      UNIQUE KEY users_email_unique (email), KEY users_name_prefix (name(20))
    ) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci""",
    """CREATE TABLE posts (ID bigint(20) unsigned NOT NULL AUTO_INCREMENT PRIMARY KEY,
      post_author bigint(20) unsigned NOT NULL DEFAULT 0,
      post_date datetime NOT NULL DEFAULT '0000-00-00 00:00:00',
      post_title text NOT NULL, post_content longtext NOT NULL, post_name varchar(200) NOT NULL DEFAULT '',
      sticky tinyint(1) NOT NULL DEFAULT 0,
      KEY post_name (post_name(191)), FULLTEXT KEY post_search (post_title, post_content)
    ) DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci""",
    "INSERT INTO users (email, name, is_admin, created_at, updated_at) VALUES "
    "('Ada@Example.org', 'Ada', 2, '2024-01-02 03:04:05', '2024-01-02 03:04:05'), "
    "('bob@example.org', 'Bob', 0, NULL, '2024-01-03 00:00:00')",
    "INSERT INTO posts (post_author, post_date, post_title, post_content, post_name, sticky) VALUES "
    "(1, '0000-00-00 00:00:00', 'Draft', 'not yet written', 'draft', 0), "
    "(1, '2024-02-01 10:00:00', 'Ferry boats', 'crossing the harbour at dawn', 'ferry-boats', 7), "
    "(2, '2024-02-02 00:00:00', 'Bridges', 'steel and stone', 'bridges', 1)",
)


def _refused(target: Database, statement: str) -> bool:
    try:
        pg_exec(target, statement)
    except psycopg.errors.UniqueViolation:
        return True
    return False


def test_a_web_app_database_migrates_and_keeps_working(
    mariadb_db: Database,
    pg_db2: Database,
    tmp_path,
    monkeypatch: pytest.MonkeyPatch,
    capsys,  # type: ignore[no-untyped-def]
) -> None:
    mysql_exec(mariadb_db, *WEB_APP)

    assert _run(tmp_path, _bundle(mariadb_db, pg_db2), monkeypatch, mariadb_db.password) == 0, (
        capsys.readouterr()
    )
    out = capsys.readouterr().out
    assert "MISMATCH" not in out and "checksum ok" in out
    # A rerun (before the application writes) finds every unit done and the plan converged.
    assert _run(tmp_path, _bundle(mariadb_db, pg_db2), monkeypatch, mariadb_db.password) == 0

    # Zero dates arrived as NULL; TINYINT(1) flags as booleans (7 and 2 are true).
    assert pg_rows(pg_db2, 'SELECT "ID", post_date IS NULL, sticky FROM posts ORDER BY "ID"') == [
        (1, True, False), (2, False, True), (3, False, True)
    ]  # fmt: skip
    assert pg_rows(pg_db2, "SELECT email, is_admin FROM users ORDER BY id") == [
        ("Ada@Example.org", True), ("bob@example.org", False)
    ]  # fmt: skip

    # Insert without an id: the BIGINT UNSIGNED AUTO_INCREMENT key is an identity, and its counter
    # continues from the source's (set after the load).
    pg_exec(pg_db2, "INSERT INTO users (email, name) VALUES ('carol@example.org', 'Carol')")
    assert pg_rows(pg_db2, "SELECT id FROM users WHERE name = 'Carol'") == [(3,)]
    # A duplicate email differing only in case is refused (utf8mb4_unicode_ci kept by citext).
    assert _refused(pg_db2, "INSERT INTO users (email, name) VALUES ('ada@example.ORG', 'Imposter')")
    # An UPDATE moves updated_at (ON UPDATE CURRENT_TIMESTAMP as a trigger) ...
    pg_exec(pg_db2, "UPDATE users SET name = 'Ada L.' WHERE id = 1")
    assert pg_rows(pg_db2, "SELECT updated_at > '2025-01-01' FROM users WHERE id = 1") == [(True,)]
    # ... unless the statement sets it itself, as Laravel does.
    pg_exec(pg_db2, "UPDATE users SET name = 'Bob B.', updated_at = '2024-05-05 00:00:00+00' WHERE id = 2")
    assert pg_rows(pg_db2, "SELECT updated_at = '2024-05-05 00:00:00+00' FROM users WHERE id = 2") == [
        (True,)
    ]
    # A full-text query finds a row, through the GIN index's expression.
    found = pg_rows(
        pg_db2,
        "SELECT \"ID\" FROM posts WHERE to_tsvector('simple', (COALESCE(post_title, '') || ' ') "
        "|| COALESCE(post_content, '')) @@ plainto_tsquery('simple', 'harbour')",
    )
    assert found == [(2,)]
    assert pg_rows(
        pg_db2, "SELECT indexdef LIKE '%USING gin%' FROM pg_indexes WHERE indexname = 'post_search'"
    ) == [(True,)]
    # Zero-date posts can still be written, and the prefix index serves lookups by name.
    pg_exec(pg_db2, "INSERT INTO posts (post_title, post_content) VALUES ('New', 'body')")
    assert pg_rows(pg_db2, "SELECT count(*) FROM posts WHERE post_name = 'bridges'") == [(1,)]
