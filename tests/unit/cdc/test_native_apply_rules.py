"""Native apply's pure rules: which mappings it may take, the connection string it hands the
target server, and the lag it reports from samples of the source's position."""

from __future__ import annotations

from typing import Any

import pytest

from ferry.api.connection import DatabaseConnectionSpec
from ferry.api.migration import Transform
from ferry.cdc.native_apply import source_conninfo, static_ineligibility
from ferry.cdc.native_follower import LagClock
from ferry.db.credentials import Credentials
from ferry.schema.mapping import ColumnMapping, TableMapping
from ferry.services.planning import Side


def side(engine: str = "postgresql", password: str = "s3cret pw'", **extra: Any) -> Side:
    fields = {"engine": engine, "host": "db.example", "port": 5432, "database": "shop",
              "credentialsSecretRef": {"name": "creds"}}  # fmt: skip
    return Side(DatabaseConnectionSpec.model_validate(fields | extra), Credentials("app", password))


def table(target_table: str = "items", target_column: str = "name", **extra: Any) -> TableMapping:
    columns = (
        ColumnMapping("id", "id", "integer", "integer", False),
        ColumnMapping("name", target_column, "text", "text", True, extra.pop("transform", None)),
    )
    return TableMapping("public", "items", "public", target_table, columns, ("id",), **extra)


def test_a_mapping_that_keeps_every_name_is_eligible() -> None:
    assert static_ineligibility(side(), side(), [table()]) is None


@pytest.mark.parametrize(
    ("mapping", "why"),
    [
        (table(target_table="goods"), "table public.items is written to public.goods"),
        (table(target_column="title"), "table public.items: column name is renamed"),
        (table(transform=Transform.model_validate({"column": "name", "type": "null"})), "has a transform"),
        (table(where="id > 3"), "table public.items has a where filter"),
    ],
)
def test_a_mapping_that_changes_what_is_written_is_not(mapping: TableMapping, why: str) -> None:
    reason = static_ineligibility(side(), side(), [table(), mapping])
    assert reason is not None and why in reason


def test_only_postgresql_to_postgresql() -> None:
    assert (
        static_ineligibility(side("mariadb"), side(), [table()])
        == "native apply needs PostgreSQL on both sides"
    )


def test_the_connection_string_quotes_the_password_and_asks_for_no_libpq_16_option() -> None:
    conninfo = source_conninfo(side(tls={"mode": "require"}))
    assert "password='s3cret pw\\''" in conninfo
    assert "host=db.example" in conninfo and "sslmode=require" in conninfo
    assert "require_auth" not in conninfo


def test_lag_is_how_long_ago_the_source_was_where_the_target_is() -> None:
    lag = LagClock()
    assert lag.seconds(now=10.0, current=100, applied=100) == 0.0  # caught up
    assert lag.seconds(now=11.0, current=200, applied=100) == 1.0  # at 10 the source was at 100
    assert lag.seconds(now=12.0, current=300, applied=150) == 2.0  # past 100, short of 200 (taken at 11)
    assert lag.seconds(now=13.0, current=300, applied=200) == 2.0  # the source was at 200 at 11
    assert lag.seconds(now=14.0, current=300, applied=300) == 0.0
