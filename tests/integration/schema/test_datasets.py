"""Real schemas: Chinook (MariaDB and SQLite into PostgreSQL) and Pagila (PostgreSQL to PostgreSQL)."""

from __future__ import annotations

import re

import pytest
import sqlalchemy as sa

from conftest import DATASETS
from ferry.api.migration import MigrationSpec
from ferry.schema import (
    ApplyError,
    DatabaseSchema,
    Operation,
    apply_plan,
    apply_post_data,
    build_plan,
    discover,
    select_tables,
)
from harness.databases import Database, PostgresServer
from harness.datasets import load_dump_mariadb, load_dump_postgresql
from integration.schema.loading import engine_for

pytestmark = pytest.mark.integration

CHINOOK = DATASETS / "chinook"
PAGILA = DATASETS / "pagila" / "pagila-schema.sql"
# Pagila is dumped from PostgreSQL 18; the test servers run 15.
PG15_STAND_INS = {"uuidv7()": "gen_random_uuid()", ") VIRTUAL": ") STORED"}
SPEC = MigrationSpec.model_validate(
    {"source": {"connectionRef": {"name": "s"}}, "target": {"connectionRef": {"name": "t"}}}
)


def snake(name: str) -> str:
    """Chinook's PostgreSQL script names `InvoiceLine.InvoiceLineId` as `invoice_line.invoice_line_id`."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name).lower()


def shape(schema: DatabaseSchema, rename: bool) -> dict[str, object]:
    """What must match: columns (type, nullability), primary keys and foreign keys, by snake_case name."""
    n = snake if rename else (lambda s: s)
    out: dict[str, object] = {}
    for table in schema.tables.values():
        out[n(table.name)] = {
            "columns": [(n(c.name), c.type, c.nullable) for c in table.columns],
            "pk": tuple(n(c) for c in table.primary_key),
            "fks": sorted(
                (
                    tuple(n(c) for c in fk.columns),
                    n(fk.referred_table),
                    tuple(n(c) for c in fk.referred_columns),
                )
                for fk in table.foreign_keys
            ),
        }
    return out


def _plan_and_apply(source: DatabaseSchema, target_engine: sa.Engine) -> DatabaseSchema:
    target = discover(target_engine)
    plan = build_plan(
        source, target, select_tables(source, SPEC, "postgresql"), mode="create", target_dialect="postgresql"
    )
    assert plan.errors == ()
    # DDL is all safe; what is lossy is the copy's conversion of MySQL zero dates (data operations).
    assert all(op.risk == "safe" for op in plan.pre_data + plan.post_data)
    assert {op.kind for op in plan.data_operations} <= {"convert_values"}
    assert {op.kind for op in plan.pre_data} == {"create_table"}
    assert {op.kind for op in plan.post_data} == {"create_index", "add_foreign_key"}
    apply_plan(target_engine, plan.pre_data)
    apply_plan(target_engine, plan.post_data)
    return discover(target_engine)


@pytest.fixture
def chinook_reference(pg_server: PostgresServer) -> dict[str, object]:
    reference = pg_server.create_database()
    load_dump_postgresql(reference, CHINOOK / "Chinook_PostgreSql.sql")
    return shape(discover(engine_for(reference)), rename=False)


def test_chinook_mariadb_into_postgresql_matches_the_reference_schema(
    mariadb_db: Database, pg_db: Database, chinook_reference: dict[str, object]
) -> None:
    load_dump_mariadb(mariadb_db, CHINOOK / "Chinook_MySql.sql")
    source = discover(engine_for(mariadb_db))
    assert len(source.tables) == 11
    created = _plan_and_apply(source, engine_for(pg_db))
    # Intended differences: Ferry keeps the source's identifiers (PascalCase), the reference
    # script uses snake_case; `shape` compares them through snake_case. The NOT NULL DATETIME
    # column (InvoiceDate) holds no zero date, read at planning: it keeps NOT NULL.
    assert shape(created, rename=True) == chinook_reference


def test_chinook_sqlite_into_postgresql_matches_the_reference_schema(
    pg_db: Database, chinook_reference: dict[str, object]
) -> None:
    source = discover(
        sa.create_engine(f"sqlite:///file:{CHINOOK / 'Chinook_Sqlite.sqlite'}?mode=ro&uri=true")
    )
    assert source.tables["Track"].row_estimate == 3503  # exact count on SQLite
    created = _plan_and_apply(source, engine_for(pg_db))
    # Intended difference: SQLite's INTEGER PRIMARY KEY is a rowid (auto-assigned), so Ferry
    # creates those keys as identity columns; the reference declares plain INT keys.
    identity = {(t.name, c.name) for t in created.tables.values() for c in t.columns if c.autoincrement}
    assert ("Track", "TrackId") in identity and ("PlaylistTrack", "TrackId") not in identity
    assert shape(created, rename=True) == chinook_reference


def _deferred_keys_plan(mariadb_db: Database, target_engine: sa.Engine) -> list[Operation]:
    load_dump_mariadb(mariadb_db, CHINOOK / "Chinook_MySql.sql")
    source = discover(engine_for(mariadb_db))
    plan = build_plan(
        source, discover(target_engine), select_tables(source, SPEC, "postgresql"),
        mode="create", target_dialect="postgresql", defer_primary_keys=True,
    )  # fmt: skip
    assert {op.kind for op in plan.post_data} == {"add_primary_key", "create_index", "add_foreign_key"}
    apply_plan(target_engine, plan.pre_data)
    return list(plan.post_data)


def test_post_data_built_two_tables_at_a_time_gives_the_reference_schema(
    mariadb_db: Database, pg_db: Database, chinook_reference: dict[str, object]
) -> None:
    target_engine = engine_for(pg_db)
    post_data = _deferred_keys_plan(mariadb_db, target_engine)

    record = apply_post_data(target_engine, post_data, jobs=2)

    assert record.ok and len(record.applied) == len(post_data)
    assert shape(discover(target_engine), rename=True) == chinook_reference


def test_create_mode_completes_only_the_tables_the_migration_created(
    mariadb_db: Database, pg_db: Database, chinook_reference: dict[str, object]
) -> None:
    """After the load, a re-plan in mode create gives the tables it created their deferred keys;
    tables it did not create are left as they are (a warning)."""
    target_engine = engine_for(pg_db)
    _deferred_keys_plan(mariadb_db, target_engine)  # the tables exist now, without any key
    source = discover(engine_for(mariadb_db))

    def replan(owned: tuple[str, ...]) -> list[Operation]:
        plan = build_plan(
            source, discover(target_engine), select_tables(source, SPEC, "postgresql"),
            mode="create", target_dialect="postgresql", defer_primary_keys=True, owned_tables=owned,
        )  # fmt: skip
        return [op for op in plan.operations if not op.is_data]

    assert replan(()) == []
    owned = tuple(f"public.{name}" for name in source.tables)
    ops = replan(owned)
    assert {op.kind for op in ops} == {"add_primary_key", "create_index", "add_foreign_key"}
    apply_plan(target_engine, [op for op in ops if op.phase == "pre_data"])
    apply_post_data(target_engine, [op for op in ops if op.phase == "post_data"], jobs=2)
    assert shape(discover(target_engine), rename=True) == chinook_reference


def test_a_failing_key_stops_the_foreign_keys_and_names_its_statement(
    mariadb_db: Database, pg_db: Database
) -> None:
    target_engine = engine_for(pg_db)
    post_data = _deferred_keys_plan(mariadb_db, target_engine)
    with target_engine.begin() as conn:  # a duplicate key value: the Genre primary key cannot be built
        conn.exec_driver_sql("""INSERT INTO "Genre" ("GenreId", "Name") VALUES (1, 'a'), (1, 'b')""")

    with pytest.raises(ApplyError) as failed:
        apply_post_data(target_engine, post_data, jobs=2)

    record = failed.value.record
    assert record.failed is not None and '"Genre"' in record.failed and "PRIMARY KEY" in record.failed
    assert any('"Track"' in statement and "PRIMARY KEY" in statement for statement in record.applied)
    assert not any("FOREIGN KEY" in statement for statement in record.applied)
    assert "Track" in {
        t for t in discover(target_engine).tables if discover(target_engine).tables[t].primary_key
    }


@pytest.fixture
def pagila(pg_db: Database, pg_server: PostgresServer) -> Database:
    """Pagila loaded as the superuser (the dump sets owners to `postgres`). pgvector is not
    installed here: its extension and the one table using it are left out; PG15_STAND_INS
    replace what PostgreSQL 18 added (uuidv7(), virtual generated columns)."""
    db = pg_server.as_superuser(pg_db)
    load_dump_postgresql(
        db,
        PAGILA,
        drop=("Name: vector;", "EXTENSION vector", "public.vector", "film_embedding"),
        replace=PG15_STAND_INS,
    )
    return db


def test_pagila_discovers_and_its_diff_against_itself_is_empty(pagila: Database) -> None:
    schema = discover(engine_for(pagila))
    assert {"actor", "film", "payment", "rental", "customer"} <= set(schema.tables)
    assert "payment_p2022_01" in schema.partitions and "payment_p2022_01" not in schema.tables
    assert "actor_info" in schema.views
    assert schema.enums["mpaa_rating"].values == ("G", "PG", "PG-13", "R", "NC-17")
    assert schema.tables["film"].column("rating") is not None
    assert DatabaseSchema.from_json(schema.to_json()) == schema

    plan = build_plan(
        schema, schema, select_tables(schema, SPEC, "postgresql"), mode="diff", target_dialect="postgresql"
    )
    assert plan.operations == ()
    # PostgreSQL to PostgreSQL the views are carried: the target (itself) has them alike.
    assert ("view", "actor_info") in {(o.kind, o.name) for o in schema.objects}
    assert not any("actor_info" in w for w in plan.warnings)


def test_pagila_column_dropped_on_the_target_is_planned_back(
    pagila: Database, pg_server: PostgresServer
) -> None:
    source_engine = engine_for(pagila)
    source = discover(source_engine)
    source_engine.dispose()
    with pg_server.admin() as conn:
        conn.execute(f'CREATE DATABASE "{pagila.name}_t" TEMPLATE "{pagila.name}"')
    target_db = Database(
        "postgresql", pagila.host, pagila.port, f"{pagila.name}_t", pagila.user, pagila.password
    )
    target_engine = engine_for(target_db)
    with target_engine.begin() as conn:
        conn.exec_driver_sql("ALTER TABLE staff DROP COLUMN picture")
    target = discover(target_engine)
    assert target.hash() != source.hash()

    plan = build_plan(
        source, target, select_tables(source, SPEC, "postgresql"), mode="diff", target_dialect="postgresql"
    )
    assert [(op.kind, op.qualified_table, op.risk, op.detail) for op in plan.operations] == [
        ("add_column", "public.staff", "safe", "column picture bytea")
    ]
    apply_plan(target_engine, plan.operations)
    mappings = select_tables(source, SPEC, "postgresql")
    again = build_plan(source, discover(target_engine), mappings, mode="diff", target_dialect="postgresql")
    assert again.operations == ()
