"""A SQLite file planned into PostgreSQL (issue 11): an AUTOINCREMENT key becomes an identity
whose counter continues from `sqlite_sequence` (also past deleted ids); views and triggers are
named by the plan as not carried; a foreign key to a table that is neither selected nor on the
target makes `ferry plan` exit non-zero.

The first test writes the rows by hand and runs the completion step's counter reset on its
own; `ferry run` (SQLite is a copy source: ferry.copy.sqlite_source) does both in the last."""

from __future__ import annotations

import json
import sqlite3
import textwrap
from pathlib import Path

import pytest
import sqlalchemy as sa

from ferry.api.migration import MigrationSpec
from ferry.cli.main import main
from ferry.schema import apply_plan, build_plan, discover, select_tables
from ferry.schema.sequence_resets import sequence_resets
from ferry.schema.sequence_sql import source_position
from ferry.services.sequence_reset import apply_reset
from harness.databases import Database
from integration.copy.helpers import pg_exec, pg_rows
from integration.schema.loading import engine_for

pytestmark = pytest.mark.integration


def _sqlite(path: Path) -> None:
    with sqlite3.connect(path) as conn:
        conn.executescript(
            """
            CREATE TABLE notes (id INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL);
            INSERT INTO notes (body) VALUES ('a'), ('b'), ('c'), ('d');
            DELETE FROM notes WHERE id = 4;  -- sqlite_sequence still says 4
            CREATE TABLE tags (id INTEGER PRIMARY KEY, note_id INTEGER REFERENCES notes (id), tag TEXT);
            INSERT INTO tags (note_id, tag) VALUES (1, 'x');
            CREATE VIEW tagged AS SELECT n.body, t.tag FROM notes n JOIN tags t ON t.note_id = n.id;
            CREATE TRIGGER notes_touch AFTER UPDATE ON notes BEGIN SELECT 1; END;
            """
        )


def _bundle(path: Path, target: Database, extra: str = "") -> str:
    return (
        textwrap.dedent(f"""\
        apiVersion: v1
        kind: Secret
        metadata: {{name: dst-creds}}
        stringData: {{username: {target.user}, password: {target.password}}}
        ---
        apiVersion: ferry.dev/v1alpha1
        kind: DatabaseConnection
        metadata: {{name: src}}
        spec: {{engine: sqlite, database: "{path}"}}
        ---
        apiVersion: ferry.dev/v1alpha1
        kind: DatabaseConnection
        metadata: {{name: dst}}
        spec: {{engine: postgresql, host: {target.host}, port: {target.port}, database: {target.name},
               credentialsSecretRef: {{name: dst-creds}}}}
        ---
        apiVersion: ferry.dev/v1alpha1
        kind: Migration
        metadata: {{name: notes}}
        spec:
          source: {{connectionRef: {{name: src}}}}
          target: {{connectionRef: {{name: dst}}, schema: public}}
          schema: {{mode: create}}
          validation: {{rowCount: true, checksum: true}}
        """)
        + extra
    )


def _ferry(tmp_path: Path, text: str, *argv: str) -> int:
    bundle = tmp_path / "bundle.yaml"
    bundle.write_text(text)
    return main([*argv, "-f", str(bundle), "--secrets-from-env"])


def test_sqlite_autoincrement_is_an_identity_that_continues_and_objects_are_named(
    pg_db2: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "notes.sqlite"
    _sqlite(source)

    assert _ferry(tmp_path, _bundle(source, pg_db2), "plan", "--output", "json") == 0
    plan = json.loads(capsys.readouterr().out)
    assert "view tagged is not carried: SQLite SQL is not translated" in "\n".join(plan["warnings"])
    assert "trigger notes_touch on table notes is not carried" in "\n".join(plan["warnings"])

    # Both keys are identities (INTEGER PRIMARY KEY is SQLite's rowid); their counters are set.
    resets = {op["table"]: op for op in plan["operations"] if op["kind"] == "set_sequence"}
    assert sorted(resets) == ["public.notes", "public.tags"]
    assert "sqlite_sequence" in resets["public.notes"]["detail"]

    # The schema as planned, the rows as the copy writes them, then the completion step's reset.
    src, dst = sa.create_engine(f"sqlite:///{source}"), engine_for(pg_db2)
    source_schema = discover(src)
    spec = MigrationSpec.model_validate(
        {
            "source": {"connectionRef": {"name": "s"}},
            "target": {"connectionRef": {"name": "d"}, "schema": "public"},
        }
    )
    mappings = select_tables(source_schema, spec, "postgresql")
    built = build_plan(source_schema, discover(dst), mappings, mode="create", target_dialect="postgresql")
    apply_plan(dst, built.pre_data + built.post_data)
    pg_exec(pg_db2, "INSERT INTO notes (id, body) VALUES (1, 'a'), (2, 'b'), (3, 'c')")
    for reset in sequence_resets(source_schema, mappings, "postgresql", "public"):
        with src.connect() as conn:
            position = source_position(conn, reset)
        with dst.begin() as conn:
            apply_reset(conn, reset, position)
    # The identity continues past the source's counter (4, though id 4 was deleted).
    pg_exec(pg_db2, "INSERT INTO notes (body) VALUES ('e')")
    assert pg_rows(pg_db2, "SELECT id FROM notes WHERE body = 'e'") == [(5,)]


def test_foreign_key_to_a_table_nowhere_is_a_plan_error(
    pg_db2: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "notes.sqlite"
    _sqlite(source)
    only_tags = "  " + "tables: {include: [tags]}\n"
    text = _bundle(source, pg_db2).replace(
        "  schema: {mode: create}\n", "  schema: {mode: create}\n" + only_tags
    )

    assert _ferry(tmp_path, text, "plan", "--output", "json") == 1
    errors = json.loads(capsys.readouterr().out)["errors"]
    assert errors == [
        "tags: references notes, which is not selected and does not exist on the target; "
        "select notes or exclude the referencing column"
    ]
    # Once the target has the referred table, the plan can run (the key is not created: a warning).
    pg_exec(pg_db2, "CREATE TABLE notes (id integer PRIMARY KEY)")
    assert _ferry(tmp_path, text, "plan") == 0


def test_run_from_sqlite_continues_the_autoincrement_counter_past_deleted_ids(
    pg_db2: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    source = tmp_path / "notes.sqlite"
    _sqlite(source)

    assert _ferry(tmp_path, _bundle(source, pg_db2), "run", "--no-progress") == 0, capsys.readouterr()
    assert capsys.readouterr().out.count("checksum ok") == 2
    assert pg_rows(pg_db2, "SELECT id, body FROM notes ORDER BY id") == [(1, "a"), (2, "b"), (3, "c")]

    # notes: sqlite_sequence says 4 (id 4 was deleted); tags: no AUTOINCREMENT, the largest copied id.
    pg_exec(
        pg_db2, "INSERT INTO notes (body) VALUES ('e')", "INSERT INTO tags (note_id, tag) VALUES (1, 'y')"
    )
    assert pg_rows(pg_db2, "SELECT id FROM notes WHERE body = 'e'") == [(5,)]
    assert pg_rows(pg_db2, "SELECT id FROM tags WHERE tag = 'y'") == [(2,)]
