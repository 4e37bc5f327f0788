"""One dialect registry: every spelling of an engine resolves to its family, MariaDB to MySQL."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from sqlalchemy.dialects import mysql, postgresql, sqlite

from ferry.api.connection import DatabaseConnectionSpec, Engine
from ferry.db.credentials import Credentials
from ferry.db.dialects import Family, UnknownDialect, family, sqlalchemy_dialect
from ferry.db.target import InvalidConnection, resolve_target


def url_spec(engine: str) -> DatabaseConnectionSpec:
    return DatabaseConnectionSpec.model_validate(
        {"engine": engine, "database": "shop", "urlSecretRef": {"name": "dsn"}}
    )


@pytest.mark.parametrize(
    ("engine", "expected"),
    [
        (Engine.POSTGRESQL, Family.POSTGRESQL),
        (Engine.MYSQL, Family.MYSQL),
        (Engine.MARIADB, Family.MYSQL),
        (Engine.SQLITE, Family.SQLITE),
        ("mariadb", Family.MYSQL),
        ("mariadb+pymysql", Family.MYSQL),
        ("postgresql+psycopg", Family.POSTGRESQL),
        (postgresql.dialect(), Family.POSTGRESQL),
        (mysql.dialect(), Family.MYSQL),
        (sqlite.dialect(), Family.SQLITE),
        (sa.create_engine("mariadb+pymysql://u:p@h/d").dialect, Family.MYSQL),
    ],
)
def test_every_spelling_resolves_to_its_family(engine: object, expected: Family) -> None:
    assert family(engine) is expected  # type: ignore[arg-type]
    assert family(engine) == expected.value  # type: ignore[arg-type]  # a StrEnum: equal to its name


def test_unknown_dialect_is_a_value_error_naming_it() -> None:
    with pytest.raises(UnknownDialect, match="'oracle'"):
        family("oracle")
    assert issubclass(UnknownDialect, ValueError)


def test_sqlalchemy_dialect_of_mariadb_compiles_as_mysql() -> None:
    assert sqlalchemy_dialect(Engine.MARIADB).name == "mysql"
    assert sqlalchemy_dialect("postgresql").name == "postgresql"


@pytest.mark.parametrize(
    ("engine", "url"),
    [
        ("mariadb", "mysql://u:p@db/x"),
        ("mysql", "mariadb+pymysql://u:p@db/x"),
        ("postgresql", "postgres://u:p@db/x"),
    ],
)
def test_url_of_the_same_family_is_accepted(engine: str, url: str) -> None:
    assert resolve_target(url_spec(engine), Credentials(url=url)).host == "db"


@pytest.mark.parametrize("url", ["mysql://u:p@db/x", "oracle://u:p@db/x"])
def test_url_of_another_family_is_refused_by_its_scheme(url: str) -> None:
    with pytest.raises(InvalidConnection, match=r'holds a "\w+" URL but spec.engine is postgresql'):
        resolve_target(url_spec("postgresql"), Credentials(url=url))
