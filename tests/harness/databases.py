"""Real PostgreSQL and MariaDB servers for tests: started in temporary directories on free ports.

Each server is started once per test session; each test gets its own database on it.
Never depends on a server that happens to be running on the machine.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

import psycopg
import pymysql

from harness.processes import as_user, chown_tree, free_port, port_open, server_user, wait_until

PG_BIN = Path(os.environ.get("FERRY_PG_BIN", "/usr/lib/postgresql/15/bin"))
SUPERUSER_PASSWORD = "harness-superuser-pw"
# PostgreSQL settings of a source for logical decoding (online migrations; a restart to change).
LOGICAL = {"wal_level": "logical", "max_replication_slots": "40", "max_wal_senders": "40"}


def binlog_args(base_dir: Path) -> tuple[str, ...]:
    """mariadbd options of a source for online migrations: row-based binlog with full row images."""
    return (
        f"--log-bin={base_dir / 'binlog'}",
        "--binlog-format=ROW",
        "--binlog-row-image=FULL",
        "--server-id=1",
        # Without it, binary logging refuses CREATE FUNCTION/TRIGGER from users without SUPER,
        # which the application fixtures are.
        "--log-bin-trust-function-creators=1",
    )


def stop_server(
    process: subprocess.Popen[bytes] | None, base_dir: Path, stop_signal: int = signal.SIGTERM
) -> None:
    """Stop a server (`stop_signal`, killed after 30 s) and remove its directory."""
    if process is not None and process.poll() is None:
        process.send_signal(stop_signal)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
    shutil.rmtree(base_dir, ignore_errors=True)


@dataclass(frozen=True)
class Database:
    """One database on a test server, with the credentials of a user who owns it."""

    engine: str  # postgresql | mariadb
    host: str
    port: int
    name: str
    user: str
    password: str

    def sqlalchemy_url(self) -> str:
        driver = "postgresql+psycopg" if self.engine == "postgresql" else "mysql+pymysql"
        return f"{driver}://{quote(self.user)}:{quote(self.password)}@{self.host}:{self.port}/{self.name}"

    def libpq_dsn(self) -> str:
        return (
            f"host={self.host} port={self.port} dbname={self.name} user={self.user} password={self.password}"
        )


@dataclass
class PostgresServer:
    """A PostgreSQL cluster in `base_dir`, password authentication over TCP."""

    base_dir: Path
    port: int = field(default_factory=free_port)
    settings: dict[str, str] = field(default_factory=dict)
    hba_lines: list[str] = field(default_factory=list)
    process: subprocess.Popen[bytes] | None = None

    engine = "postgresql"
    host = "127.0.0.1"
    superuser = "postgres"

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    def start(self) -> PostgresServer:
        user = server_user()
        self.base_dir.mkdir(parents=True, exist_ok=True)
        pwfile = self.base_dir / "pw"
        pwfile.write_text(SUPERUSER_PASSWORD)
        chown_tree(self.base_dir, user)
        subprocess.run(
            as_user(
                [
                    str(PG_BIN / "initdb"),
                    "-D",
                    str(self.data_dir),
                    "-U",
                    self.superuser,
                    f"--pwfile={pwfile}",
                    "--auth-local=trust",
                    "--auth-host=scram-sha-256",
                    "--encoding=UTF8",
                    "--locale=C.UTF-8",
                ],
                user,
            ),
            check=True,
            stdout=subprocess.DEVNULL,
        )
        conf = {
            "listen_addresses": "'127.0.0.1'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.base_dir}'",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "200",
            "shared_buffers": "128MB",
            "log_min_messages": "warning",
            **self.settings,
        }
        with (self.data_dir / "postgresql.conf").open("a") as fh:
            fh.writelines(f"{k} = {v}\n" for k, v in conf.items())
        if self.hba_lines:
            hba = self.data_dir / "pg_hba.conf"
            hba.write_text("\n".join(self.hba_lines) + "\n" + hba.read_text())
        chown_tree(self.base_dir, user)
        self._run_postmaster()
        return self

    def _run_postmaster(self) -> None:
        log = open(self.base_dir / "server.log", "ab")  # noqa: SIM115 - lives as long as the server
        self.process = subprocess.Popen(
            as_user([str(PG_BIN / "postgres"), "-D", str(self.data_dir)], server_user()),
            stdout=log,
            stderr=log,
        )
        wait_until(self._accepts, 30, f"PostgreSQL on port {self.port}")

    def go_down(self, mode: str = "fast") -> None:
        """An outage: the server stops (`fast`: sessions are terminated, as a failover or a
        restart does; `immediate`: a crash) and keeps its data for `come_back`."""
        assert self.process is not None
        signals = {"fast": signal.SIGINT, "immediate": signal.SIGQUIT}
        self.process.send_signal(signals[mode])
        self.process.wait(timeout=60)

    def come_back(self) -> None:
        """Start the stopped server again on the same port and data."""
        self._run_postmaster()

    def _accepts(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"PostgreSQL exited: {(self.base_dir / 'server.log').read_text()[-2000:]}")
        if not port_open(self.port):
            return False
        try:
            self.admin().close()
            return True
        except psycopg.OperationalError:
            return False

    def admin(self, dbname: str = "postgres") -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(
            host=self.host,
            port=self.port,
            user=self.superuser,
            password=SUPERUSER_PASSWORD,
            dbname=dbname,
            autocommit=True,
            sslmode="prefer",
        )

    def create_database(self, name: str | None = None) -> Database:
        """A fresh database owned by a fresh login role."""
        name = name or f"t_{uuid.uuid4().hex[:12]}"
        role, password = f"u_{name}", f"pw-{uuid.uuid4().hex}"
        with self.admin() as conn:
            conn.execute(f"CREATE ROLE \"{role}\" LOGIN PASSWORD '{password}'")
            conn.execute(f'CREATE DATABASE "{name}" OWNER "{role}"')
        with self.admin(name) as conn:
            conn.execute(f'ALTER SCHEMA public OWNER TO "{role}"')
        return Database(self.engine, self.host, self.port, name, role, password)

    def as_superuser(self, db: Database) -> Database:
        return Database(self.engine, self.host, self.port, db.name, self.superuser, SUPERUSER_PASSWORD)

    def stop(self) -> None:
        # Fast shutdown: SIGTERM is PostgreSQL's "smart" one, which waits for every session to
        # end, so a session a test left open held each stop for the 30 s before the kill (the
        # end of every test run, measured). The data is thrown away, sessions may be cut.
        stop_server(self.process, self.base_dir, signal.SIGINT)


@dataclass
class MariaDBServer:
    """A MariaDB server in `base_dir`; TCP users with passwords, root only over the socket."""

    base_dir: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    extra_args: tuple[str, ...] = ()  # more mariadbd options, e.g. the TLS certificate files

    engine = "mariadb"
    host = "127.0.0.1"
    admin_user = "harness_admin"

    @property
    def socket(self) -> Path:
        return self.base_dir / "mysqld.sock"

    def start(self) -> MariaDBServer:
        data = self.base_dir / "data"
        data.mkdir(parents=True, exist_ok=True)
        run_as = ["--user=root"] if os.geteuid() == 0 else []
        subprocess.run(
            [
                "mariadb-install-db",
                "--no-defaults",
                f"--datadir={data}",
                "--auth-root-authentication-method=socket",
                "--skip-test-db",
                *run_as,
            ],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        log = open(self.base_dir / "server.log", "wb")  # noqa: SIM115 - lives as long as the server
        self.process = subprocess.Popen(
            [
                shutil.which("mariadbd") or "/usr/sbin/mariadbd",
                "--no-defaults",
                f"--datadir={data}",
                f"--port={self.port}",
                "--bind-address=127.0.0.1",
                f"--socket={self.socket}",
                f"--pid-file={self.base_dir / 'mysqld.pid'}",
                "--skip-name-resolve",
                "--innodb-flush-log-at-trx-commit=2",
                "--innodb-buffer-pool-size=256M",
                "--character-set-server=utf8mb4",
                "--collation-server=utf8mb4_unicode_ci",
                "--max-connections=300",
                *self.extra_args,
                *run_as,
            ],
            stdout=log,
            stderr=log,
        )
        wait_until(self._socket_ready, 60, f"MariaDB on port {self.port}")
        with pymysql.connect(unix_socket=str(self.socket), user="root") as conn, conn.cursor() as cur:
            for host in ("127.0.0.1", "localhost"):
                cur.execute(
                    f"CREATE USER '{self.admin_user}'@'{host}' IDENTIFIED BY %s", (SUPERUSER_PASSWORD,)
                )
                cur.execute(f"GRANT ALL ON *.* TO '{self.admin_user}'@'{host}' WITH GRANT OPTION")
        return self

    def _socket_ready(self) -> bool:
        if self.process is not None and self.process.poll() is not None:
            raise RuntimeError(f"MariaDB exited: {(self.base_dir / 'server.log').read_text()[-2000:]}")
        if not self.socket.exists():
            return False
        try:
            pymysql.connect(unix_socket=str(self.socket), user="root").close()
            return True
        except pymysql.err.OperationalError:
            return False

    def admin(self, database: str | None = None) -> pymysql.connections.Connection:  # type: ignore[type-arg]
        return pymysql.connect(
            host=self.host,
            port=self.port,
            user=self.admin_user,
            password=SUPERUSER_PASSWORD,
            database=database,
            autocommit=True,
        )

    def create_database(self, name: str | None = None) -> Database:
        name = name or f"t_{uuid.uuid4().hex[:12]}"
        user, password = f"u_{name}"[:32], f"pw-{uuid.uuid4().hex}"
        with self.admin() as conn, conn.cursor() as cur:
            cur.execute(f"CREATE DATABASE `{name}`")
            cur.execute(f"CREATE USER '{user}'@'%%' IDENTIFIED BY %s", (password,))
            cur.execute(f"GRANT ALL ON `{name}`.* TO '{user}'@'%'")
        return Database(self.engine, self.host, self.port, name, user, password)

    def as_superuser(self, db: Database) -> Database:
        return Database(self.engine, self.host, self.port, db.name, self.admin_user, SUPERUSER_PASSWORD)

    def stop(self) -> None:
        stop_server(self.process, self.base_dir)
