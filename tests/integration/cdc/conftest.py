"""Fixtures of the change-capture tests: a source database whose owner may create slots, and a
capture that is dropped after each test (the test server has 40 slots for the whole session)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from ferry.cdc import pg_capture
from ferry.services.planning import Side
from harness.databases import Database, PostgresServer
from integration.cdc.pg_helpers import side_of


@pytest.fixture
def source_db(pg_server: PostgresServer, pg_db: Database) -> Database:
    """A fresh database owned by a fresh role with REPLICATION (not a superuser)."""
    with pg_server.admin() as conn:
        conn.execute(f'ALTER ROLE "{pg_db.user}" REPLICATION')
    return pg_db


@pytest.fixture
def source(source_db: Database) -> Side:
    return side_of(source_db)


@pytest.fixture
def migration_uid(source: Side) -> Iterator[str]:
    """A Migration UID whose capture is dropped after the test, whatever it left."""
    uid = str(uuid.uuid4())
    yield uid
    pg_capture.drop(source, uid)
