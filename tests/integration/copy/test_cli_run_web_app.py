"""`ferry run` of a Laravel/WordPress-shaped MariaDB database into PostgreSQL, then the
application's own statements on the target (issue 11): what the plan promised must hold."""

from __future__ import annotations

import psycopg
import pytest

from harness.app_datasets import WEB_APP_MARIADB
from harness.databases import Database
from integration.copy.helpers import mysql_exec, pg_exec, pg_rows
from integration.copy.test_cli_run import _bundle, _run

pytestmark = pytest.mark.integration


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
    mysql_exec(mariadb_db, *WEB_APP_MARIADB)

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
