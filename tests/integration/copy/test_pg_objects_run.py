"""`ferry run` PostgreSQL to PostgreSQL carries the application, not only its tables: Pagila with
a few rows, then the application's own statements on the target; and citext (issue 11)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncpg
import psycopg
import pytest

from ferry.copy.endpoints import PG_SESSION
from harness.app_datasets import load_pagila
from harness.databases import Database, PostgresServer
from integration.copy.helpers import pg_exec, pg_rows
from integration.copy.test_cli_run import _bundle, _run

pytestmark = pytest.mark.integration


@pytest.fixture
def pagila_rows(pg_db: Database, pg_server: PostgresServer) -> Database:
    db = pg_server.as_superuser(pg_db)
    load_pagila(db)
    return db


def _refused(db: Database, statement: str) -> str:
    with psycopg.connect(db.libpq_dsn(), autocommit=True) as conn, pytest.raises(psycopg.Error) as error:
        conn.execute(statement)  # type: ignore[arg-type]
    return str(error.value)


def test_pagila_runs_on_the_target_after_ferry_run(
    pagila_rows: Database, pg_db2: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:  # type: ignore[no-untyped-def]
    text = _bundle(pagila_rows, pg_db2)
    assert _run(tmp_path, text, monkeypatch, pagila_rows.password) == 0, capsys.readouterr()
    assert "MISMATCH" not in capsys.readouterr().out
    target = pg_db2

    # Views, a materialized view filled from the loaded rows, functions and an aggregate.
    assert pg_rows(target, "SELECT title, actors FROM film_list ORDER BY fid")[0][0] == "Academy Dinosaur"
    assert pg_rows(target, "SELECT category, total_sales::text FROM rental_by_category") == [
        ("Action", "3.98")
    ]
    # (Pagila's get_customer_balance calls MySQL's IF(): broken on the source too.)
    assert pg_rows(target, "SELECT inventory_in_stock(1), (SELECT count(*) FROM film_in_stock(2, 1))") == [
        (False, 0)
    ]
    assert pg_rows(target, "SELECT group_concat(first_name) FROM actor") == [("Penelope, Nick",)]
    # The rows were copied once, not changed by triggers on the way; an update fires last_updated.
    assert pg_rows(target, "SELECT count(*) FROM payment") == [(2,)]
    before = pg_rows(target, "SELECT last_update FROM actor WHERE actor_id = 1")
    pg_exec(target, "UPDATE actor SET last_name = 'GUINESS' WHERE actor_id = 1")
    assert pg_rows(target, "SELECT last_update FROM actor WHERE actor_id = 1") != before
    # Full text: the column is there, filled, and its trigger keeps it up to date.
    assert pg_rows(target, "SELECT count(*) FROM film WHERE fulltext @@ to_tsquery('dentist')") == [(1,)]
    pg_exec(target, "UPDATE film SET description = 'A story of a crocodile' WHERE film_id = 2")
    assert pg_rows(target, "SELECT film_id FROM film WHERE fulltext @@ to_tsquery('crocodile')") == [(2,)]
    # The generated column is computed by the target.
    assert pg_rows(target, "SELECT length_hours FROM film WHERE film_id = 1")[0][0] is not None
    # Domain `year` and enum `mpaa_rating` still refuse bad values.
    assert "year_check" in _refused(target, "UPDATE film SET release_year = 1800 WHERE film_id = 1")
    assert "mpaa_rating" in _refused(target, "UPDATE film SET rating = 'X' WHERE film_id = 1")
    # payment is still partitioned: a new row lands in its month's partition.
    pg_exec(
        target,
        "INSERT INTO payment (payment_id, customer_id, staff_id, rental_id, amount, payment_date) "
        "VALUES (100, 1, 1, 1, 5.00, '2022-07-04 12:00:00+00')",
    )
    assert pg_rows(target, "SELECT tableoid::regclass::text FROM payment WHERE payment_id = 100") == [
        ("payment_p2022_07",)
    ]
    # Pagila's first six partitions have foreign keys of their own.
    assert "payment_p2022_06_customer_id_fkey" in _refused(
        target, "INSERT INTO payment (payment_id, customer_id, staff_id, rental_id, amount, payment_date) "
        "VALUES (101, 99, 1, 1, 5.00, '2022-06-05 12:00:00+00')",
    )  # fmt: skip


def test_citext_column_migrates_and_stays_case_insensitive(
    pg_db: Database, pg_db2: Database, pg_server: PostgresServer, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch, capsys,  # type: ignore[no-untyped-def]
) -> None:  # fmt: skip
    with pg_server.admin(pg_db.name) as conn:  # an extension needs a privileged role to install
        conn.execute("CREATE EXTENSION citext")
    with pg_server.admin(pg_db2.name) as conn:  # the target role may create trusted extensions only
        conn.execute(f'GRANT CREATE ON DATABASE "{pg_db2.name}" TO "{pg_db2.user}"')
    pg_exec(
        pg_db,
        "CREATE TABLE app_user (id integer PRIMARY KEY, email citext NOT NULL UNIQUE)",
        "INSERT INTO app_user VALUES (1, 'Mary@Example.com'), (2, 'pat@example.com')",
    )
    assert _run(tmp_path, _bundle(pg_db, pg_db2), monkeypatch, pg_db.password) == 0, capsys.readouterr()

    assert pg_rows(pg_db2, "SELECT id FROM app_user WHERE email = 'mary@example.COM'") == [(1,)]
    assert "app_user_email_key" in _refused(pg_db2, "INSERT INTO app_user VALUES (3, 'PAT@EXAMPLE.COM')")


def test_an_inheritance_parent_is_copied_without_its_childrens_rows(
    pg_db: Database,
    pg_db2: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys,  # type: ignore[no-untyped-def]
) -> None:
    pg_exec(
        pg_db,
        "CREATE TABLE city (id integer PRIMARY KEY, name text NOT NULL)",
        "CREATE TABLE capital (state text NOT NULL) INHERITS (city)",
        "ALTER TABLE capital ADD PRIMARY KEY (id)",
        "INSERT INTO city VALUES (1, 'Springfield'), (2, 'Shelbyville')",
        "INSERT INTO capital VALUES (3, 'Sacramento', 'CA')",
    )
    assert _run(tmp_path, _bundle(pg_db, pg_db2), monkeypatch, pg_db.password) == 0, capsys.readouterr()
    out = capsys.readouterr().out
    assert "MISMATCH" not in out

    # The capital was copied once, into capital, which joined city after the load (INHERITS): the
    # parent's own rows plus the child's, each once.
    assert pg_rows(pg_db2, "SELECT count(*) FROM ONLY city") == [(2,)]
    assert pg_rows(pg_db2, "SELECT count(*) FROM city") == [(3,)]
    assert pg_rows(pg_db2, "SELECT id, state FROM capital") == [(3, "CA")]


def test_a_source_user_under_a_row_security_policy_stops_the_run(
    pg_db: Database,
    pg_db2: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys,  # type: ignore[no-untyped-def]
) -> None:
    pg_exec(
        pg_db,
        "CREATE TABLE doc (id integer PRIMARY KEY, owner text NOT NULL)",
        "INSERT INTO doc VALUES (1, current_user), (2, 'someone else')",
        "ALTER TABLE doc ENABLE ROW LEVEL SECURITY",
        "ALTER TABLE doc FORCE ROW LEVEL SECURITY",  # the owner is subject to it too
        "CREATE POLICY own ON doc USING (owner = current_user)",
    )
    assert pg_rows(pg_db, "SELECT count(*) FROM doc") == [(1,)]  # what a plain read would copy

    assert _run(tmp_path, _bundle(pg_db, pg_db2), monkeypatch, pg_db.password) != 0
    captured = capsys.readouterr()
    assert "doc: row-level security hides rows from the source user" in captured.out + captured.err
    assert pg_rows(pg_db2, "SELECT to_regclass('public.doc') IS NULL") == [(True,)]  # refused at the plan


def test_row_security_off_stops_a_read_that_a_policy_would_filter(pg_db: Database) -> None:
    """Past the plan (a policy added during the copy, say), the session setting still refuses."""
    pg_exec(
        pg_db,
        "CREATE TABLE doc (id integer PRIMARY KEY, owner text NOT NULL)",
        "INSERT INTO doc VALUES (1, current_user), (2, 'someone else')",
        "ALTER TABLE doc ENABLE ROW LEVEL SECURITY",
        "ALTER TABLE doc FORCE ROW LEVEL SECURITY",
        "CREATE POLICY own ON doc USING (owner = current_user)",
    )

    async def read() -> None:
        conn = await asyncpg.connect(
            host=pg_db.host, port=pg_db.port, user=pg_db.user, password=pg_db.password, database=pg_db.name
        )
        try:
            await conn.execute(PG_SESSION)
            await conn.fetch("SELECT * FROM ONLY public.doc")
        finally:
            await conn.close()

    with pytest.raises(Exception, match="row-level security"):
        asyncio.run(read())


@pytest.mark.parametrize("on_conflict", ["error", "update"])
def test_identity_always_keeps_the_copied_values_and_generated_columns_are_computed(
    on_conflict: str,
    pg_db: Database,
    pg_db2: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys,  # type: ignore[no-untyped-def]
) -> None:
    pg_exec(
        pg_db,
        "CREATE TABLE item (id integer GENERATED ALWAYS AS IDENTITY (START WITH 100 INCREMENT BY 10)"
        " PRIMARY KEY,"
        " price numeric(8,2) NOT NULL, qty integer NOT NULL,"
        " total numeric GENERATED ALWAYS AS (price * qty) STORED)",
        "INSERT INTO item (price, qty) VALUES (2.50, 4), (1.00, 3)",
    )
    copy = f"batchSize: 400, parallelism: 1, onConflict: {on_conflict}"
    assert _run(tmp_path, _bundle(pg_db, pg_db2, copy=copy), monkeypatch, pg_db.password) == 0, (
        capsys.readouterr()
    )
    assert "MISMATCH" not in capsys.readouterr().out

    assert pg_rows(pg_db2, "SELECT id, total::text FROM item ORDER BY id") == [(100, "10.00"), (110, "3.00")]
    assert pg_rows(
        pg_db2, "SELECT attidentity FROM pg_attribute WHERE attrelid = 'item'::regclass AND attname = 'id'"
    ) == [("a",)]
    assert "cannot insert a non-DEFAULT value" in _refused(
        pg_db2, "INSERT INTO item (id, price, qty) VALUES (1, 1, 1)"
    )


def test_objects_move_into_a_target_schema_of_another_name(
    pg_db: Database,
    pg_db2: Database,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys,  # type: ignore[no-untyped-def]
) -> None:
    """Source schema app, target schema app2: definitions the source prints unqualified (app is on
    its search_path) are read qualified and moved to app2, so the application works there."""
    pg_exec(
        pg_db,
        "CREATE SCHEMA app",
        "SET search_path = app",
        """
        CREATE TYPE app.status AS ENUM ('open', 'closed');
        CREATE FUNCTION app.is_positive(n integer) RETURNS boolean LANGUAGE sql IMMUTABLE AS 'SELECT n > 0';
        CREATE FUNCTION app.norm(t text) RETURNS text LANGUAGE sql IMMUTABLE AS 'SELECT lower(btrim(t))';
        SET search_path = app;
        CREATE TABLE orders (
            id integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
            state status NOT NULL DEFAULT 'open'::status,
            email text NOT NULL,
            amount integer NOT NULL CONSTRAINT amount_positive CHECK (is_positive(amount)),
            note text DEFAULT 'app.orders',
            touched timestamptz
        );
        CREATE UNIQUE INDEX orders_email ON orders (norm(email));
        CREATE FUNCTION touch() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN NEW.touched := now(); RETURN NEW; END $$;
        CREATE TRIGGER orders_touch BEFORE INSERT OR UPDATE ON orders FOR EACH ROW EXECUTE FUNCTION touch();
        CREATE VIEW open_orders AS SELECT id, email FROM orders WHERE state = 'open'::status;
        INSERT INTO orders (email, amount, state)
            VALUES ('Mary@example.com', 5, 'open'), ('pat@x.org', 2, 'closed');
        """,
    )
    text = (
        _bundle(pg_db, pg_db2)
        .replace(
            "source: {connectionRef: {name: legacy}}", "source: {connectionRef: {name: legacy}, schema: app}"
        )
        .replace(", schema: public", ", schema: app2")
    )
    assert _run(tmp_path, text, monkeypatch, pg_db.password) == 0, capsys.readouterr()
    assert "MISMATCH" not in capsys.readouterr().out

    # The application's statements, on a session whose search_path names only the new schema.
    with psycopg.connect(pg_db2.libpq_dsn(), autocommit=True) as conn:
        conn.execute("SET search_path = app2")
        assert conn.execute("SELECT count(*) FROM orders").fetchall() == [(2,)]
        conn.execute("INSERT INTO orders (email, amount) VALUES ('new@example.com', 3)")
        # The enum default; the literal default is data (not moved); the trigger fired.
        row = conn.execute("SELECT state::text, note, touched IS NOT NULL FROM orders WHERE amount = 3")
        assert row.fetchall() == [("open", "app.orders", True)]
        assert conn.execute("SELECT email FROM open_orders ORDER BY id").fetchall() == [
            ("Mary@example.com",),
            ("new@example.com",),
        ]
        with pytest.raises(psycopg.errors.CheckViolation, match="amount_positive"):
            conn.execute("INSERT INTO orders (email, amount) VALUES ('zero@example.com', 0)")
        with pytest.raises(psycopg.errors.UniqueViolation, match="orders_email"):
            conn.execute("INSERT INTO orders (email, amount) VALUES (' MARY@example.com', 1)")
    # Nothing of the target names the source schema.
    assert pg_rows(pg_db2, "SELECT count(*) FROM pg_namespace WHERE nspname = 'app'") == [(0,)]
    assert pg_rows(
        pg_db2, "SELECT pg_get_expr(adbin, adrelid) FROM pg_attrdef WHERE adrelid = 'app2.orders'::regclass "
        "AND adnum = 2"
    ) == [("'open'::app2.status",)]  # fmt: skip
