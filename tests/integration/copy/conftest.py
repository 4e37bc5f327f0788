"""Copy-engine fixtures: the Chinook dataset loaded on real servers."""

from __future__ import annotations

import re

import pytest

from conftest import DATASETS
from harness.databases import Database
from integration.copy.helpers import run_mysql_script, run_pg_script

CHINOOK = DATASETS / "chinook"


def _after_create_database(script: str) -> str:
    """The script from its 'Create Tables' section on: it creates and switches databases before that."""
    return script[script.rindex("/*", 0, script.index("Create Tables")) :]


def chinook_tables_only(script: str) -> str:
    body = _after_create_database(script)
    return body[: body.rindex("/*", 0, body.index("Create Primary Key Unique Indexes"))]


@pytest.fixture
def chinook_pg(pg_db: Database) -> Database:
    run_pg_script(pg_db, _after_create_database((CHINOOK / "Chinook_PostgreSql.sql").read_text()))
    return pg_db


@pytest.fixture
def chinook_maria(mariadb_db: Database) -> Database:
    script = _after_create_database((CHINOOK / "Chinook_MySql.sql").read_text(encoding="utf-8"))
    run_mysql_script(mariadb_db, re.sub(r"^USE .*$", "", script, flags=re.M))
    return mariadb_db


@pytest.fixture
def chinook_pg_empty(pg_db2: Database) -> Database:
    """The Chinook tables (with primary keys, without foreign keys) and no rows: a copy target."""
    run_pg_script(pg_db2, chinook_tables_only((CHINOOK / "Chinook_PostgreSql.sql").read_text()))
    return pg_db2
