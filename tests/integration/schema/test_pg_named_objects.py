"""PostgreSQL objects Ferry does not carry are named in the plan, never dropped silently: event
triggers, foreign servers, user mappings and foreign tables (made by a superuser), publications
other than Ferry's own (issue 11)."""

from __future__ import annotations

import pytest

from ferry.api.migration import MigrationSpec
from ferry.schema import build_plan, discover, select_tables
from harness.databases import Database, PostgresServer
from integration.schema.loading import engine_for, run_sql

pytestmark = pytest.mark.integration


def _plan(source: Database, target: Database):  # type: ignore[no-untyped-def]
    spec = MigrationSpec.model_validate(
        {"source": {"connectionRef": {"name": "s"}}, "target": {"connectionRef": {"name": "t"}}}
    )
    found = discover(engine_for(source))
    return build_plan(
        found,
        discover(engine_for(target)),
        select_tables(found, spec, "postgresql"),
        mode="create",
        target_dialect="postgresql",
    )


def test_event_triggers_foreign_objects_and_publications_are_named(
    pg_db: Database, pg_db2: Database, pg_server: PostgresServer
) -> None:
    run_sql(
        pg_server.as_superuser(pg_db),
        """
        CREATE FUNCTION public.log_ddl() RETURNS event_trigger LANGUAGE plpgsql AS 'BEGIN END';
        CREATE EVENT TRIGGER audit_ddl ON ddl_command_end EXECUTE FUNCTION public.log_ddl();
        CREATE EXTENSION postgres_fdw;
        CREATE SERVER billing FOREIGN DATA WRAPPER postgres_fdw OPTIONS (host '127.0.0.1', dbname 'billing');
        CREATE USER MAPPING FOR PUBLIC SERVER billing OPTIONS (user 'reader', password 'not-shown');
        CREATE FOREIGN TABLE public.invoice (id integer, total numeric) SERVER billing;
        CREATE TABLE public.item (id integer PRIMARY KEY);
        CREATE PUBLICATION app_changes FOR TABLE public.item;
        CREATE PUBLICATION ferry_0123abcd FOR TABLE public.item;
        """,
    )
    plan = _plan(pg_db, pg_db2)
    named = "\n".join(plan.warnings)

    assert "event trigger audit_ddl is not carried" in named
    assert "foreign server billing is not carried" in named
    assert "user mapping for public on server billing is not carried" in named
    assert "foreign table invoice is not carried" in named
    assert "publication app_changes is not carried" in named
    assert "ferry_0123abcd" not in named  # Ferry's own capture's
    assert "not-shown" not in named  # a user mapping's options hold credentials
    assert plan.errors == ()
    assert [op.table for op in plan.operations if op.kind == "create_table"] == ["item"]
