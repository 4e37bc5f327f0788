"""`ferry run` PostgreSQL to PostgreSQL, then the application's own statements on the target, for
what issue 11 added last: INHERITS, text-search configurations, rules, grants beyond tables
(columns, schema, sequences, default privileges), and `ferry plan` refusing a table that needs an
operator Ferry does not carry."""

from __future__ import annotations

import uuid
from pathlib import Path

import psycopg
import pytest

from harness.databases import Database, PostgresServer
from integration.copy.helpers import pg_exec, pg_rows
from integration.copy.test_cli_run import _bundle, _run
from integration.schema.test_cli_plan import connection, ferry

pytestmark = pytest.mark.integration


def _as_role(db: Database, role: str, statement: str) -> list[tuple[object, ...]]:
    """Run `statement` as `role` (the target user is a member of it); the rows of a SELECT."""
    with psycopg.connect(db.libpq_dsn(), autocommit=True) as conn:
        conn.execute(f'SET ROLE "{role}"')  # type: ignore[arg-type]
        cursor = conn.execute(statement)  # type: ignore[arg-type]
        return list(cursor.fetchall()) if cursor.description else []


def _refused_as(db: Database, role: str, statement: str) -> str:
    with psycopg.connect(db.libpq_dsn(), autocommit=True) as conn, pytest.raises(psycopg.Error) as error:
        conn.execute(f'SET ROLE "{role}"')  # type: ignore[arg-type]
        conn.execute(statement)  # type: ignore[arg-type]
    return str(error.value)


def test_an_inheritance_parent_returns_its_and_its_childs_rows_once(
    pg_db: Database, pg_db2: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:  # type: ignore[no-untyped-def]
    pg_exec(
        pg_db,
        "CREATE TABLE city (name text PRIMARY KEY, population integer NOT NULL CHECK (population >= 0))",
        "CREATE TABLE capital (state char(2) NOT NULL) INHERITS (city)",
        "INSERT INTO city VALUES ('Springfield', 100), ('Shelbyville', 50)",
        "INSERT INTO capital VALUES ('Sacramento', 500, 'CA'), ('Albany', 90, 'NY')",
    )
    text = _bundle(pg_db, pg_db2)
    assert _run(tmp_path, text, monkeypatch, pg_db.password) == 0, capsys.readouterr()
    assert "MISMATCH" not in capsys.readouterr().out  # each table validated without its children

    assert pg_rows(pg_db2, "SELECT name FROM city ORDER BY name") == [
        ("Albany",), ("Sacramento",), ("Shelbyville",), ("Springfield",)
    ]  # fmt: skip
    assert pg_rows(pg_db2, "SELECT name FROM ONLY city ORDER BY name") == [("Shelbyville",), ("Springfield",)]
    assert pg_rows(pg_db2, "SELECT name, state FROM capital ORDER BY name") == [
        ("Albany", "NY"), ("Sacramento", "CA")
    ]  # fmt: skip
    parents = "SELECT inhparent::regclass::text FROM pg_inherits WHERE inhrelid = 'capital'::regclass"
    assert pg_rows(pg_db2, parents) == [("city",)]
    # A second run finds everything in place: nothing copied twice, nothing to inherit again.
    assert _run(tmp_path, text, monkeypatch, pg_db.password) == 0, capsys.readouterr()
    assert pg_rows(pg_db2, "SELECT count(*) FROM city") == [(4,)]
    # The application's statements: a new capital is seen through the parent, the parent's check holds.
    pg_exec(pg_db2, "INSERT INTO capital VALUES ('Austin', 900, 'TX')")
    assert pg_rows(pg_db2, "SELECT count(*) FROM city WHERE name = 'Austin'") == [(1,)]
    with psycopg.connect(pg_db2.libpq_dsn(), autocommit=True) as conn, pytest.raises(psycopg.Error):
        conn.execute("INSERT INTO capital VALUES ('Nowhere', -1, 'XX')")


def test_text_search_configuration_and_rules_work_on_the_target(
    pg_db: Database, pg_db2: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:  # type: ignore[no-untyped-def]
    pg_exec(
        pg_db,
        # stems without dropping stop words: 'the' stays searchable, as the application relies on
        "CREATE TEXT SEARCH DICTIONARY english_stem_nostop (TEMPLATE = snowball, language = 'english')",
        "CREATE TEXT SEARCH CONFIGURATION docs_english (COPY = pg_catalog.english)",
        "ALTER TEXT SEARCH CONFIGURATION docs_english"
        " ALTER MAPPING FOR asciiword, word WITH english_stem_nostop",
        "CREATE TABLE doc (id integer PRIMARY KEY, body text NOT NULL,"
        " search tsvector GENERATED ALWAYS AS (to_tsvector('docs_english', body)) STORED)",
        "CREATE INDEX doc_search ON doc USING gin (search)",
        "CREATE TABLE doc_log (doc_id integer, action text)",
        "CREATE RULE doc_logged AS ON INSERT TO doc DO ALSO INSERT INTO doc_log VALUES (NEW.id, 'insert')",
        "INSERT INTO doc VALUES (1, 'The runners were running'), (2, 'Nothing here')",
        "DELETE FROM doc_log",  # the source's own log of those inserts is not the point
    )
    assert _run(tmp_path, _bundle(pg_db, pg_db2), monkeypatch, pg_db.password) == 0, capsys.readouterr()

    # The configuration is there and behaves as on the source: stems, and keeps 'the'.
    query = "SELECT id FROM doc WHERE search @@ to_tsquery('docs_english', '{}') ORDER BY id"
    assert pg_rows(pg_db2, query.format("run")) == [(1,)]
    assert pg_rows(pg_db2, query.format("the")) == [(1,)]
    assert pg_rows(pg_db2, "SELECT to_tsvector('docs_english', 'The runs')::text") == pg_rows(
        pg_db, "SELECT to_tsvector('docs_english', 'The runs')::text"
    )
    # The copied rows did not fire the rule; the application's insert does.
    assert pg_rows(pg_db2, "SELECT count(*) FROM doc_log") == [(0,)]
    pg_exec(pg_db2, "INSERT INTO doc VALUES (3, 'A walking tour')")
    assert pg_rows(pg_db2, "SELECT doc_id, action FROM doc_log") == [(3, "insert")]
    assert pg_rows(pg_db2, query.format("walk")) == [(3,)]


def test_a_carried_cast_converts_on_the_target(
    pg_db: Database, pg_db2: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:  # type: ignore[no-untyped-def]
    pg_exec(
        pg_db,
        "CREATE TABLE item (id integer PRIMARY KEY, label text)",
        "CREATE FUNCTION item_label(item) RETURNS text LANGUAGE sql AS 'SELECT $1.id || '':'' || $1.label'",
        "CREATE CAST (item AS text) WITH FUNCTION item_label(item) AS ASSIGNMENT",
        "INSERT INTO item VALUES (1, 'bolt')",
    )
    assert _run(tmp_path, _bundle(pg_db, pg_db2), monkeypatch, pg_db.password) == 0, capsys.readouterr()
    assert pg_rows(pg_db2, "SELECT i::text FROM item i") == [("1:bolt",)]
    assert pg_rows(pg_db2, "SELECT castcontext FROM pg_cast WHERE castsource = 'item'::regtype") == [("a",)]


def test_grants_beyond_tables_let_the_mapped_roles_do_what_they_did(
    pg_db: Database, pg_db2: Database, pg_server: PostgresServer, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    tag = uuid.uuid4().hex[:8]
    src_app, src_reader, dst_app, dst_reader = (f"{r}_{tag}" for r in ("app", "reader", "app2", "analyst"))
    with pg_server.admin() as admin:
        for role in (src_app, src_reader, dst_app, dst_reader):
            admin.execute(f'CREATE ROLE "{role}"')  # type: ignore[arg-type]
        for role in (src_app, src_reader):
            admin.execute(f'GRANT "{role}" TO "{pg_db.user}"')  # type: ignore[arg-type]
        for role in (dst_app, dst_reader):  # the target user hands objects over and sets defaults
            admin.execute(f'GRANT "{role}" TO "{pg_db2.user}"')  # type: ignore[arg-type]
    pg_exec(
        pg_db,
        f'GRANT CREATE, USAGE ON SCHEMA public TO "{src_app}"',
        f'GRANT USAGE ON SCHEMA public TO "{src_reader}"',
        "CREATE TABLE account"
        " (id integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, name text, secret text)",
        "INSERT INTO account (name, secret) VALUES ('ann', 's1'), ('bob', 's2')",
        f'GRANT SELECT (id, name), INSERT (name) ON account TO "{src_reader}"',
        f'GRANT USAGE ON SEQUENCE account_id_seq TO "{src_reader}"',
        f'ALTER TABLE account OWNER TO "{src_app}"',
        f'ALTER DEFAULT PRIVILEGES FOR ROLE "{src_app}" IN SCHEMA public'
        f' GRANT SELECT ON TABLES TO "{src_reader}"',
    )
    pg_exec(pg_db2, f'GRANT CREATE ON SCHEMA public TO "{dst_app}"')
    mapping = f"privileges: copy, roleMapping: {{{src_app}: {dst_app}, {src_reader}: {dst_reader}}}"
    text = _bundle(pg_db, pg_db2).replace("schema: {mode: create}", f"schema: {{mode: create, {mapping}}}")
    assert mapping in text
    assert _run(tmp_path, text, monkeypatch, pg_db.password) == 0, capsys.readouterr()

    # The column grants: the mapped reader reads the granted columns and is refused the other.
    assert _as_role(pg_db2, dst_reader, "SELECT id, name FROM account ORDER BY id") == [
        (1, "ann"),
        (2, "bob"),
    ]
    assert "permission denied" in _refused_as(pg_db2, dst_reader, "SELECT secret FROM account")
    # USAGE on the schema and on the identity's sequence (whatever the target named it): it inserts.
    _as_role(pg_db2, dst_reader, "INSERT INTO account (name) VALUES ('cid')")
    assert pg_rows(pg_db2, "SELECT id, name FROM account WHERE name = 'cid'") == [(3, "cid")]
    # Default privileges: a table the mapped owner creates afterwards is readable by the reader.
    _as_role(pg_db2, dst_app, "CREATE TABLE later (x integer)")
    assert _as_role(pg_db2, dst_reader, "SELECT count(*) FROM later") == [(0,)]
    # The source's roles have nothing on the target.
    assert pg_rows(pg_db2, f"SELECT has_column_privilege('{src_reader}', 'account', 'name', 'SELECT')") == [
        (False,)
    ]


def test_plan_refuses_a_table_that_needs_an_operator_not_carried(
    tmp_path: Path, pg_db: Database, pg_db2: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    pg_exec(
        pg_db,
        "CREATE FUNCTION text_eq_ci(text, text) RETURNS boolean LANGUAGE sql IMMUTABLE AS "
        "'SELECT lower($1) = lower($2)'",
        "CREATE OPERATOR === (LEFTARG = text, RIGHTARG = text, FUNCTION = text_eq_ci)",
        "CREATE TABLE account (id integer PRIMARY KEY, name text CHECK (NOT (name === 'root')))",
    )
    bundle = tmp_path / "b.yaml"
    bundle.write_text(
        connection("src", pg_db)
        + connection("dst", pg_db2)
        + """---
apiVersion: ferry.dev/v1alpha1
kind: Migration
metadata: {name: move}
spec:
  source: {connectionRef: {name: src}}
  target: {connectionRef: {name: dst}}
  schema: {mode: create}
"""
    )
    assert ferry("plan", "-f", str(bundle)) == 1
    out = capsys.readouterr()
    assert "operator ===(text, text) is not carried" in out.out + out.err
    assert "account" in out.out + out.err


def test_postgis_points_arrive_with_their_srid_and_answer_spatial_queries(
    pg_db: Database, pg_db2: Database, pg_server: PostgresServer, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    for db in (pg_db, pg_db2):  # PostGIS is not trusted: a superuser installs it on both sides
        pg_exec(pg_server.as_superuser(db), "CREATE EXTENSION postgis")
    pg_exec(
        pg_db,
        "CREATE TABLE place"
        " (id integer PRIMARY KEY, name text NOT NULL, geom geometry(Point, 4326) NOT NULL)",
        "CREATE INDEX place_geom ON place USING gist (geom)",
        "INSERT INTO place VALUES (1, 'Berlin', ST_SetSRID(ST_MakePoint(13.40, 52.52), 4326)),"
        " (2, 'Potsdam', ST_SetSRID(ST_MakePoint(13.06, 52.39), 4326)),"
        " (3, 'Paris', ST_SetSRID(ST_MakePoint(2.35, 48.86), 4326))",
    )
    assert _run(tmp_path, _bundle(pg_db, pg_db2), monkeypatch, pg_db.password) == 0, capsys.readouterr()
    assert "MISMATCH" not in capsys.readouterr().out

    geom_type = "SELECT format_type(atttypid, atttypmod) FROM pg_attribute WHERE attname = 'geom'"
    assert pg_rows(pg_db2, geom_type + " AND attrelid = 'place'::regclass") == [("geometry(Point,4326)",)]
    near_berlin = (
        "SELECT name FROM place WHERE ST_DWithin(geom::geography,"
        " ST_SetSRID(ST_MakePoint(13.40, 52.52), 4326)::geography, 50000) ORDER BY name"
    )
    assert pg_rows(pg_db2, near_berlin) == [("Berlin",), ("Potsdam",)]
    assert pg_rows(pg_db2, "SELECT ST_SRID(geom), ST_AsText(geom) FROM place WHERE id = 3") == [
        (4326, "POINT(2.35 48.86)")
    ]
    # A point in another SRID is refused, as on the source.
    with psycopg.connect(pg_db2.libpq_dsn(), autocommit=True) as conn, pytest.raises(psycopg.Error):
        conn.execute("INSERT INTO place VALUES (4, 'x', ST_SetSRID(ST_MakePoint(0, 0), 3857))")
