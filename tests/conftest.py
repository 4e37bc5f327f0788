"""Fixtures every tier shares: real database servers, one per test session."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.databases import LOGICAL, Database, MariaDBServer, PostgresServer, binlog_args

SHARED = Path(__file__).resolve().parents[2] / "shared"
DATASETS = SHARED / "datasets"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    # Logical decoding on: online migrations read every test database through a slot.
    server = PostgresServer(Path(tempfile.mkdtemp(prefix="ferry-pg-")), settings=LOGICAL).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def mariadb_server() -> Iterator[MariaDBServer]:
    base = Path(tempfile.mkdtemp(prefix="ferry-maria-"))
    # Row-based binlog with full images: what online migrations from MariaDB need.
    server = MariaDBServer(base, extra_args=binlog_args(base)).start()
    yield server
    server.stop()


@pytest.fixture
def pg_db(pg_server: PostgresServer) -> Database:
    """A fresh PostgreSQL database, owned by a fresh role, for one test."""
    return pg_server.create_database()


@pytest.fixture
def pg_db2(pg_server: PostgresServer) -> Database:
    """A second fresh PostgreSQL database (a migration target, say)."""
    return pg_server.create_database()


@pytest.fixture
def mariadb_db(mariadb_server: MariaDBServer) -> Database:
    """A fresh MariaDB database with its own user, for one test."""
    return mariadb_server.create_database()
