"""PostgreSQL discovery reads definitions with an empty search_path (names come out qualified,
as pg_dump reads them) and gives the pooled connection its search_path back."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from ferry.schema import discover
from harness.databases import Database
from integration.schema.loading import engine_for, run_sql

pytestmark = pytest.mark.integration


def test_definitions_are_qualified_and_the_search_path_is_restored(pg_db: Database) -> None:
    run_sql(
        pg_db,
        "CREATE SCHEMA app;\n"
        "CREATE TYPE app.status AS ENUM ('open', 'closed');\n"
        "CREATE TABLE app.orders (id integer PRIMARY KEY, state app.status DEFAULT 'open');\n",
    )
    engine = sa.create_engine(engine_for(pg_db).url, pool_size=1, max_overflow=0)
    with engine.connect() as conn:
        conn.execute(sa.text("SET search_path = app, public"))
        conn.commit()
    schema = discover(engine, "app")
    state = schema.tables["orders"].column("state")
    assert state is not None
    assert (state.type, state.default) == ("status", "'open'::app.status")
    with engine.connect() as conn:  # the same pooled connection
        assert conn.execute(sa.text("SHOW search_path")).scalar_one() == "app, public"
