"""Fixtures of the DatabaseConnection integration tests: TLS PostgreSQL and MariaDB servers, spec builders."""

from __future__ import annotations

import socket
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.databases import Database, MariaDBServer, PostgresServer
from integration.connection.tls_servers import Pki, make_pki, start_tls_mariadb, start_tls_postgres


@pytest.fixture(scope="session")
def pki() -> Pki:
    return make_pki()


@pytest.fixture(scope="session")
def other_pki() -> Pki:
    """A second, unrelated CA: the "wrong CA" of verify tests."""
    return make_pki(ca_name="some-other-ca")


@pytest.fixture(scope="session")
def pg_tls_server(pki: Pki) -> Iterator[PostgresServer]:
    server = start_tls_postgres(Path(tempfile.mkdtemp(prefix="ferry-pgtls-")), pki)
    yield server
    server.stop()


@pytest.fixture
def pg_tls_db(pg_tls_server: PostgresServer) -> Database:
    return pg_tls_server.create_database()


@pytest.fixture(scope="session")
def mariadb_tls_server(pki: Pki) -> Iterator[MariaDBServer]:
    server = start_tls_mariadb(Path(tempfile.mkdtemp(prefix="ferry-mariadbtls-")), pki)
    yield server
    server.stop()


@pytest.fixture
def mariadb_tls_db(mariadb_tls_server: MariaDBServer) -> Database:
    return mariadb_tls_server.create_database()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts TCP connections and never says a word: a hung server or a black hole."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                accepted.append(listener.accept()[0])
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield int(listener.getsockname()[1])
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    listener.close()


def connection_spec(db: Database, secret: str = "db-creds", **extra: Any) -> dict[str, Any]:
    """The wire form of a DatabaseConnection spec pointing at `db` with credentials in `secret`."""
    return {
        "engine": db.engine,
        "host": db.host,
        "port": db.port,
        "database": db.name,
        "credentialsSecretRef": {"name": secret},
        **extra,
    }
