"""Foreign keys of existing target tables, dropped for the load and re-created after it (real PostgreSQL)."""

from __future__ import annotations

import pytest
import sqlalchemy

from ferry.services.fk_deferral import (
    RestoreError,
    defer_foreign_keys,
    deferred_foreign_keys,
    restore_foreign_keys,
)
from harness.databases import Database, PostgresServer
from integration.copy.helpers import PG_FOREIGN_KEYS, pg_exec, pg_rows


def _schema(db: Database) -> None:
    pg_exec(
        db,
        'CREATE SCHEMA "Sales"',
        'CREATE TABLE "Sales"."Customer" (id int PRIMARY KEY, referrer int)',
        'ALTER TABLE "Sales"."Customer" ADD CONSTRAINT "Referred by" FOREIGN KEY (referrer) '
        'REFERENCES "Sales"."Customer" (id) ON DELETE SET NULL',
        'CREATE TABLE "Sales".orders (id int PRIMARY KEY, customer int '
        'REFERENCES "Sales"."Customer" (id) ON UPDATE CASCADE DEFERRABLE)',
        'CREATE TABLE audit (id int PRIMARY KEY, order_id int REFERENCES "Sales".orders (id))',
    )


@pytest.fixture
def engine(pg_db: Database) -> sqlalchemy.Engine:
    return sqlalchemy.create_engine(pg_db.sqlalchemy_url(), poolclass=sqlalchemy.NullPool)


def test_keys_on_the_loaded_tables_are_dropped_and_come_back_exactly(
    pg_db: Database, engine: sqlalchemy.Engine
) -> None:
    _schema(pg_db)
    before = pg_rows(pg_db, PG_FOREIGN_KEYS)
    tables = [("Sales", "Customer"), ("Sales", "orders"), ("Sales", "not_there_yet")]

    deferred = defer_foreign_keys(engine, "uid-1", tables)

    assert sorted(k.label for k in deferred) == [
        '"Sales"."Customer".Referred by',
        '"Sales".orders.orders_customer_fkey',
    ]
    # Only the key of the table outside the migration is left: it does not stop inserts.
    assert [row[:2] for row in pg_rows(pg_db, PG_FOREIGN_KEYS)] == [("audit", "audit_order_id_fkey")]
    # Child rows before their parents now load, as parallel units may write them.
    pg_exec(pg_db, 'INSERT INTO "Sales".orders VALUES (1, 7)', 'INSERT INTO "Sales"."Customer" VALUES (7, 7)')
    assert defer_foreign_keys(engine, "uid-1", tables) == []  # idempotent
    assert len(deferred_foreign_keys(engine, "uid-1")) == 2 and deferred_foreign_keys(engine, "uid-2") == []

    assert sorted(k.label for k in restore_foreign_keys(engine, "uid-1")) == sorted(k.label for k in deferred)
    assert pg_rows(pg_db, PG_FOREIGN_KEYS) == before
    assert deferred_foreign_keys(engine, "uid-1") == []
    assert restore_foreign_keys(engine, "uid-1") == []


def test_a_key_the_rows_break_is_named_and_stays_recorded(pg_db: Database, engine: sqlalchemy.Engine) -> None:
    _schema(pg_db)
    defer_foreign_keys(engine, "uid-1", [("Sales", "orders")])
    pg_exec(pg_db, 'INSERT INTO "Sales".orders VALUES (1, 99)')  # no customer 99

    with pytest.raises(RestoreError, match=r'"Sales"\.orders\.orders_customer_fkey.*violates foreign key'):
        restore_foreign_keys(engine, "uid-1")
    assert [k.name for k in deferred_foreign_keys(engine, "uid-1")] == ["orders_customer_fkey"]

    pg_exec(pg_db, 'INSERT INTO "Sales"."Customer" VALUES (99, NULL)')
    assert [k.name for k in restore_foreign_keys(engine, "uid-1")] == ["orders_customer_fkey"]


def test_a_key_that_exists_again_is_only_forgotten(pg_db: Database, engine: sqlalchemy.Engine) -> None:
    _schema(pg_db)
    defer_foreign_keys(engine, "uid-1", [("Sales", "orders")])
    # The re-plan of a restarted run may have re-added it under its name already.
    pg_exec(pg_db, 'ALTER TABLE "Sales".orders ADD CONSTRAINT orders_customer_fkey '
            'FOREIGN KEY (customer) REFERENCES "Sales"."Customer" (id)')  # fmt: skip

    assert [k.name for k in restore_foreign_keys(engine, "uid-1")] == ["orders_customer_fkey"]
    assert deferred_foreign_keys(engine, "uid-1") == []
    assert [row[1] for row in pg_rows(pg_db, PG_FOREIGN_KEYS)].count("orders_customer_fkey") == 1


def test_a_user_that_does_not_own_the_tables_is_refused_and_nothing_is_dropped(
    pg_server: PostgresServer, pg_db: Database, engine: sqlalchemy.Engine
) -> None:
    # The application's tables belong to another role; the migration's user may only write rows.
    pg_exec(pg_server.as_superuser(pg_db),
            "CREATE TABLE parent (id int PRIMARY KEY)",
            "CREATE TABLE child (id int PRIMARY KEY, parent_id int REFERENCES parent)",
            f'GRANT SELECT, INSERT ON parent, child TO "{pg_db.user}"')  # fmt: skip
    before = pg_rows(pg_db, PG_FOREIGN_KEYS)

    with pytest.raises(sqlalchemy.exc.ProgrammingError, match="must be owner of table child"):
        defer_foreign_keys(engine, "uid-1", [("public", "parent"), ("public", "child")])
    assert pg_rows(pg_db, PG_FOREIGN_KEYS) == before
    assert deferred_foreign_keys(engine, "uid-1") == []
