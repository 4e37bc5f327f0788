"""Credentials of a DatabaseConnection, resolved from Secret references through a SecretSource.

The source is injected: in the cluster it reads Kubernetes Secrets (ferry.kube.secrets), in
local mode it reads the bundle file and the environment (ferry.cli.bundle). Errors name the
Secret and the key, never a value.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Protocol

from ferry.api.connection import DatabaseConnectionSpec, TLSMode


class SecretError(Exception):
    """A referenced Secret or key cannot be read. The message names them, never a value."""

    reason: str = "SecretError"


class SecretNotFound(SecretError):
    reason = "SecretNotFound"

    def __init__(self, name: str) -> None:
        super().__init__(f'Secret "{name}" not found')
        self.secret_name = name


class SecretKeyMissing(SecretError):
    reason = "SecretKeyMissing"

    def __init__(self, name: str, key: str) -> None:
        super().__init__(f'Secret "{name}" has no key "{key}"')
        self.secret_name = name
        self.key = key


class SecretSource(Protocol):
    def get(self, name: str, key: str) -> str:
        """The value of one key of one Secret; raises SecretNotFound or SecretKeyMissing."""
        ...


def env_var_for(secret: str, key: str) -> str:
    """The environment variable that carries one Secret key: FERRY_SECRET_<NAME>_<KEY>.

    Worker pods receive every Secret key they need this way (as secretKeyRef env vars), and
    local mode accepts the same names with --secrets-from-env.
    """
    return "FERRY_SECRET_" + re.sub(r"[^A-Za-z0-9]", "_", f"{secret}_{key}").upper()


class EnvSecretSource:
    """A SecretSource over FERRY_SECRET_* environment variables (the worker pod's view)."""

    def __init__(self, environ: dict[str, str] | None = None) -> None:
        self._environ = dict(os.environ if environ is None else environ)

    def values(self) -> list[str]:
        """Every Secret value the pod received (for redaction: the worker registers them all)."""
        return [v for k, v in self._environ.items() if k.startswith("FERRY_SECRET_")]

    def get(self, name: str, key: str) -> str:
        value = self._environ.get(env_var_for(name, key))
        if value is None:
            raise SecretKeyMissing(name, key)
        return value


@dataclass(frozen=True)
class Credentials:
    """Secret material for one connection. `repr` never shows the values."""

    username: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    url: str | None = field(default=None, repr=False)
    ca_pem: str | None = field(default=None, repr=False)
    client_cert_pem: str | None = field(default=None, repr=False)
    client_key_pem: str | None = field(default=None, repr=False)

    def secret_values(self) -> list[str]:
        """Every secret string, for log redaction."""
        values = [self.password, self.url, self.client_key_pem]
        return [v for v in values if v]


def resolve_credentials(spec: DatabaseConnectionSpec, source: SecretSource) -> Credentials:
    username = password = url = ca = cert = key = None
    if spec.credentials_secret_ref is not None:
        ref = spec.credentials_secret_ref
        username = source.get(ref.name, ref.username_key)
        password = source.get(ref.name, ref.password_key)
    if spec.url_secret_ref is not None:
        url = source.get(spec.url_secret_ref.name, spec.url_secret_ref.key)
    tls = spec.tls
    if tls.mode != TLSMode.DISABLE and tls.ca_secret_ref is not None:
        ca = source.get(tls.ca_secret_ref.name, tls.ca_secret_ref.key)
    if tls.mode != TLSMode.DISABLE and tls.client_cert_secret_ref is not None:
        cert = source.get(tls.client_cert_secret_ref.name, tls.client_cert_secret_ref.cert_key)
        key = source.get(tls.client_cert_secret_ref.name, tls.client_cert_secret_ref.key_key)
    return Credentials(username, password, url, ca, cert, key)
