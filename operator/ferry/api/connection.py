"""DatabaseConnection: where a database is and how to reach it; credentials only by reference."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from ferry.api.base import ApiModel, ConditionedStatus, KeyName, ObjectName


class Engine(StrEnum):
    POSTGRESQL = "postgresql"
    MYSQL = "mysql"
    MARIADB = "mariadb"
    SQLITE = "sqlite"


class TLSMode(StrEnum):
    DISABLE = "disable"
    REQUIRE = "require"
    VERIFY_CA = "verify-ca"
    VERIFY_FULL = "verify-full"


class CredentialsSecretRef(ApiModel):
    """A Secret holding a username and a password under the named keys."""

    name: ObjectName = Field(description="The Secret's name, in the connection's namespace.")
    username_key: KeyName = Field(default="username", description="The Secret's key holding the user name.")
    password_key: KeyName = Field(default="password", description="The Secret's key holding the password.")


class UrlSecretRef(ApiModel):
    """A Secret holding a whole connection URL (DSN) under one key."""

    name: ObjectName = Field(description="The Secret's name, in the connection's namespace.")
    key: KeyName = Field(default="url", description="The Secret's key holding the URL.")


class CASecretRef(ApiModel):
    """A Secret holding the PEM certificate authority used to verify the server."""

    name: ObjectName = Field(description="The Secret's name, in the connection's namespace.")
    key: KeyName = Field(default="ca.crt", description="The Secret's key holding the PEM CA bundle.")


class ClientCertSecretRef(ApiModel):
    """A Secret holding a PEM client certificate and its private key (type kubernetes.io/tls)."""

    name: ObjectName = Field(description="The Secret's name, in the connection's namespace.")
    cert_key: KeyName = Field(default="tls.crt", description="The Secret's key holding the PEM certificate.")
    key_key: KeyName = Field(default="tls.key", description="The Secret's key holding the PEM private key.")


class TLSSpec(ApiModel):
    """TLS to the database server (docs/connections.md, TLS)."""

    mode: TLSMode = Field(
        default=TLSMode.DISABLE,
        description="disable: no TLS; require: encrypted, server not verified; verify-ca: the server's "
        "certificate is signed by caSecretRef; verify-full: that and the host name matches.",
    )
    ca_secret_ref: CASecretRef | None = None
    client_cert_secret_ref: ClientCertSecretRef | None = Field(
        default=None,
        description="A client certificate, for servers that authenticate clients by certificate.",
    )

    model_config = {
        "json_schema_extra": {
            "x-kubernetes-validations": [
                {
                    "rule": "!(self.mode in ['verify-ca', 'verify-full']) || has(self.caSecretRef)",
                    "message": "tls.caSecretRef is required when tls.mode is verify-ca or verify-full",
                    "fieldPath": ".caSecretRef",
                }
            ]
        }
    }


class ConnectionOptions(ApiModel):
    """How Ferry's drivers connect."""

    connect_timeout_seconds: int = Field(
        default=10, ge=1, le=300, description="Seconds to wait for a connection to open."
    )
    application_name: str = Field(
        default="ferry", max_length=63, description="The name the server shows for Ferry's sessions."
    )
    params: dict[str, str] = Field(
        default_factory=dict, description="Extra driver parameters, passed through as URL query parameters."
    )
    allow_cleartext_password: bool = Field(
        default=False,
        description="Send the password to a server that asks for it in clear text (PostgreSQL `password`, "
        "`ldap`, `pam`, `radius` methods; MySQL `mysql_clear_password` and `dialog` without TLS). "
        "Off: such a server is refused before the password leaves the operator.",
    )


class HealthCheck(ApiModel):
    """How often the operator probes the database (connect, SELECT 1, read the version)."""

    interval_seconds: int = Field(default=60, ge=5, le=86400, description="Seconds between probes.")
    timeout_seconds: int = Field(
        default=5, ge=1, le=120, description="Seconds a probe may take per network step before it fails."
    )


SQLITE_IN_CLUSTER = (
    "sqlite is for ferry run (local mode): the operator and its worker pods cannot see a file on "
    "your machine; copy it with `ferry run -f bundle.yaml`, or load it into a PostgreSQL or MariaDB "
    "server the cluster can reach"
)


class DatabaseConnectionSpec(ApiModel):
    """Where a database is. Credentials come only from Secrets in the same namespace."""

    engine: Engine = Field(description="The database server's kind; sqlite only in local mode (ferry run).")
    host: str | None = Field(
        default=None, max_length=253, description="Host name or IP address of the server (not for sqlite)."
    )
    port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="TCP port; default 5432 for postgresql, 3306 for mysql and mariadb.",
    )
    database: str = Field(min_length=1, max_length=4096, description="Database name; a file path for sqlite.")
    credentials_secret_ref: CredentialsSecretRef | None = None
    url_secret_ref: UrlSecretRef | None = None
    tls: TLSSpec = Field(default_factory=TLSSpec)
    options: ConnectionOptions = Field(default_factory=ConnectionOptions)
    read_only: bool = Field(
        default=False, description="A read-only connection may never be a migration target."
    )
    health_check: HealthCheck = Field(default_factory=HealthCheck)
    max_connections: int | None = Field(
        default=None, ge=1, le=10_000,
        description="The most connections Ferry opens to this database at once, all its processes "
        "together (ferry.services.connection_budget): one Migration at a time uses the connection, "
        "its worker pods share the budget, and the operator's own checks wait meanwhile. Unset: no cap.",
    )  # fmt: skip

    model_config = {
        "json_schema_extra": {
            "x-kubernetes-validations": [
                {
                    "rule": "self.engine == 'sqlite' || "
                    "(has(self.credentialsSecretRef) != has(self.urlSecretRef))",
                    "message": "exactly one of credentialsSecretRef or urlSecretRef must be set",
                },
                {
                    "rule": "self.engine == 'sqlite' || has(self.urlSecretRef) || has(self.host)",
                    "message": "host is required unless urlSecretRef gives the whole URL",
                    "fieldPath": ".host",
                },
                {
                    "rule": "self.engine != 'sqlite' || !has(self.host)",
                    "message": "host must be empty for sqlite; database is the file path",
                    "fieldPath": ".host",
                },
                {
                    # The model accepts sqlite (ferry run reads the same bundle); only the cluster
                    # refuses it: the operator plans from its own pod and the copy runs in worker
                    # pods, and neither can see a file on the machine that applied the object.
                    "rule": "self.engine != 'sqlite'",
                    "message": SQLITE_IN_CLUSTER,
                    "fieldPath": ".engine",
                },
            ]
        }
    }

    def default_port(self) -> int | None:
        return {Engine.POSTGRESQL: 5432, Engine.MYSQL: 3306, Engine.MARIADB: 3306}.get(self.engine)


class DatabaseConnectionStatus(ConditionedStatus):
    server_version: str | None = Field(
        default=None, description="The server's version, from the last successful probe."
    )
    last_check_time: str | None = Field(default=None, description="When the last probe ran (RFC 3339).")
    latency_ms: float | None = Field(
        default=None,
        ge=0,
        description="How long the last successful probe took (connect, SELECT 1, version), in milliseconds.",
    )
    consecutive_failures: int = Field(default=0, ge=0, description="Failed probes since the last success.")
