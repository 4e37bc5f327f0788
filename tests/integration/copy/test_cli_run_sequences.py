"""After `ferry run` the application's next INSERT gets a new id on every engine pair.

Each source hands out ids past its copied rows (rows deleted at the end, a counter moved on by
hand, a sequence used by no column): the target must continue from the source's counter, not
from 1 and not from max(id) alone. A second run (the completion step again) moves nothing back.
"""

from __future__ import annotations

import json

import pytest

from ferry.cli.bundle import load_bundle
from ferry.cli.main import main
from ferry.services.sequence_reset import reset_sequences
from harness.databases import Database
from integration.copy.helpers import mysql_exec, mysql_rows, pg_exec, pg_rows
from integration.copy.test_cli_run import _bundle, _run

pytestmark = pytest.mark.integration

PG_SOURCE = (
    "CREATE TABLE plain (id serial PRIMARY KEY, note text)",
    "CREATE TABLE events (id bigint GENERATED ALWAYS AS IDENTITY (INCREMENT BY 5) PRIMARY KEY, note text)",
    "CREATE SEQUENCE document_id_seq AS integer MAXVALUE 100000 CYCLE",
    "CREATE TABLE invoices (id integer PRIMARY KEY DEFAULT nextval('document_id_seq'), note text)",
    "CREATE TABLE credit_notes (id integer PRIMARY KEY DEFAULT nextval('document_id_seq'), note text)",
    "CREATE SEQUENCE order_number_seq START 1000 INCREMENT 10",
    "INSERT INTO plain (note) VALUES ('a'), ('b'), ('c')",
    "DELETE FROM plain WHERE id = 3",  # the source's next id is 4, not max(id) + 1
    "INSERT INTO events (note) VALUES ('a'), ('b'), ('c')",  # 1, 6, 11
    "INSERT INTO invoices (note) VALUES ('a'), ('b')",  # 1, 2
    "INSERT INTO credit_notes (note) VALUES ('a')",  # 3: the same sequence
    "SELECT nextval('order_number_seq'), nextval('order_number_seq'), nextval('order_number_seq')",
)


def _plan_kinds(tmp_path, text: str, monkeypatch, password: str, capsys) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    bundle = tmp_path / "plan.yaml"
    bundle.write_text(text)
    monkeypatch.setenv("FERRY_SECRET_SRC_CREDS_PASSWORD", password)
    capsys.readouterr()
    assert main(["plan", "-f", str(bundle), "--secrets-from-env", "--output", "json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    out: dict[str, list[str]] = {"warnings": plan["warnings"]}
    for op in plan["operations"]:
        out.setdefault(op["kind"], []).append(op["table"])
    return out


def _complete_again(tmp_path) -> list[str]:  # type: ignore[no-untyped-def]
    """The completion step's counters once more, as the operator's Validating step runs them."""
    bundle = load_bundle(str(tmp_path / "bundle.yaml"), secrets_from_env=True)
    _, spec = bundle.migration(None)
    return reset_sequences(spec, *bundle.sides(spec))


def test_pg_to_pg_serial_identity_shared_and_standalone_sequences_continue(
    pg_db: Database,
    pg_db2: Database,
    tmp_path,
    monkeypatch: pytest.MonkeyPatch,
    capsys,  # type: ignore[no-untyped-def]
) -> None:
    pg_exec(pg_db, *PG_SOURCE)
    text = _bundle(pg_db, pg_db2)
    kinds = _plan_kinds(tmp_path, text, monkeypatch, pg_db.password, capsys)
    assert kinds["create_sequence"] == ["public.document_id_seq", "public.order_number_seq"]
    assert sorted(kinds["set_sequence"]) == [
        "public.document_id_seq", "public.events", "public.order_number_seq", "public.plain",
    ]  # fmt: skip

    assert _run(tmp_path, text, monkeypatch, pg_db.password) == 0, capsys.readouterr()
    assert _run(tmp_path, text, monkeypatch, pg_db.password) == 0, capsys.readouterr()  # a rerun

    assert pg_rows(pg_db2, "INSERT INTO plain (note) VALUES ('new') RETURNING id") == [(4,)]
    assert pg_rows(pg_db2, "INSERT INTO events (note) VALUES ('new') RETURNING id") == [(16,)]
    # One sequence for both tables, as on the source.
    assert pg_rows(pg_db2, "INSERT INTO invoices (note) VALUES ('new') RETURNING id") == [(4,)]
    assert pg_rows(pg_db2, "INSERT INTO credit_notes (note) VALUES ('new') RETURNING id") == [(5,)]
    assert pg_rows(pg_db2, "SELECT nextval('order_number_seq')") == [(1030,)]
    # The options came along: increment of the identity, bounds and cycle of the shared sequence.
    assert pg_rows(
        pg_db2,
        "SELECT sequencename, increment_by, max_value, cycle FROM pg_sequences "
        "WHERE sequencename IN ('document_id_seq', 'events_id_seq') ORDER BY 1",
    ) == [("document_id_seq", 1, 100000, True), ("events_id_seq", 5, 9223372036854775807, False)]

    # The completion again moves no counter back below what the target handed out since.
    assert _complete_again(tmp_path) == []
    assert pg_rows(pg_db2, "INSERT INTO plain (note) VALUES ('newer') RETURNING id") == [(5,)]
    assert pg_rows(pg_db2, "INSERT INTO invoices (note) VALUES ('newer') RETURNING id") == [(6,)]
    assert pg_rows(pg_db2, "SELECT nextval('order_number_seq')") == [(1040,)]


def test_mariadb_to_pg_identities_continue_from_auto_increment(
    mariadb_db: Database,
    pg_db2: Database,
    tmp_path,
    monkeypatch: pytest.MonkeyPatch,
    capsys,  # type: ignore[no-untyped-def]
) -> None:
    mysql_exec(
        mariadb_db,
        "CREATE TABLE customers (id int AUTO_INCREMENT PRIMARY KEY, name varchar(20))",
        "INSERT INTO customers (name) VALUES ('a'), ('b'), ('c')",
        "DELETE FROM customers WHERE id = 3",
        "CREATE TABLE orders (id bigint AUTO_INCREMENT PRIMARY KEY, note varchar(20)) AUTO_INCREMENT = 500",
        "INSERT INTO orders (note) VALUES ('a')",  # 500; the next is 501
        "CREATE TABLE ledger (id bigint unsigned AUTO_INCREMENT PRIMARY KEY, note varchar(20))",
        "INSERT INTO ledger (note) VALUES ('a')",
    )
    text = _bundle(mariadb_db, pg_db2)
    kinds = _plan_kinds(tmp_path, text, monkeypatch, mariadb_db.password, capsys)
    # BIGINT UNSIGNED becomes numeric(20,0), which has no identity: ids are copied, not generated.
    assert sorted(kinds["set_sequence"]) == ["public.customers", "public.orders"]
    assert any("ledger.id" in w and "no identity" in w for w in kinds["warnings"]), kinds["warnings"]

    assert _run(tmp_path, text, monkeypatch, mariadb_db.password) == 0, capsys.readouterr()
    assert pg_rows(pg_db2, "INSERT INTO customers (name) VALUES ('new') RETURNING id") == [(4,)]
    assert pg_rows(pg_db2, "INSERT INTO orders (note) VALUES ('new') RETURNING id") == [(501,)]

    assert _complete_again(tmp_path) == []
    assert pg_rows(pg_db2, "INSERT INTO customers (name) VALUES ('newer') RETURNING id") == [(5,)]


def test_pg_to_mariadb_auto_increment_continues_from_the_sequence(
    pg_db: Database,
    mariadb_db: Database,
    tmp_path,
    monkeypatch: pytest.MonkeyPatch,
    capsys,  # type: ignore[no-untyped-def]
) -> None:
    pg_exec(
        pg_db,
        "CREATE TABLE plain (id serial PRIMARY KEY, note text)",
        "CREATE TABLE events (id bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, note text)",
        "INSERT INTO plain (note) VALUES ('a'), ('b'), ('c')",
        "DELETE FROM plain WHERE id = 3",
        "INSERT INTO events (note) VALUES ('a')",
        "SELECT setval(pg_get_serial_sequence('events', 'id'), 41)",  # the next is 42
    )
    text = _bundle(pg_db, mariadb_db)

    assert _run(tmp_path, text, monkeypatch, pg_db.password) == 0, capsys.readouterr()
    mysql_exec(
        mariadb_db, "INSERT INTO plain (note) VALUES ('new')", "INSERT INTO events (note) VALUES ('new')"
    )
    assert mysql_rows(mariadb_db, "SELECT max(id) FROM plain") == [(4,)]
    assert mysql_rows(mariadb_db, "SELECT max(id) FROM events") == [(42,)]

    assert _complete_again(tmp_path) == []
    mysql_exec(mariadb_db, "INSERT INTO plain (note) VALUES ('newer')")
    assert mysql_rows(mariadb_db, "SELECT max(id) FROM plain") == [(5,)]
