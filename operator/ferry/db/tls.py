"""TLS material for database drivers: in-memory SSL contexts, or private files for libpq.

asyncpg and PyMySQL take an `ssl.SSLContext`, which holds the CA and client key in memory.
libpq (psycopg) only reads paths, so for it the PEM material is written to a private
directory (0700) as files with mode 0600 and removed when the owner is done with them.
`ssl.SSLContext.load_cert_chain` also wants paths; the files it reads exist only for the
duration of that call.
"""

from __future__ import annotations

import os
import shutil
import ssl
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ferry.api.connection import TLSMode


class TLSMaterialError(ValueError):
    """The CA or client certificate material cannot be used; the message names which, no value."""


@dataclass(frozen=True)
class TLSFiles:
    """Paths of the PEM files written for one connection (None where nothing was given)."""

    directory: Path
    ca: Path | None
    cert: Path | None
    key: Path | None


def _write_private(path: Path, content: str) -> Path:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(content)
    return path


def write_tls_files(ca_pem: str | None, cert_pem: str | None, key_pem: str | None) -> TLSFiles:
    """Write the material to a fresh private directory; the caller must `remove_tls_files` it."""
    directory = Path(tempfile.mkdtemp(prefix="ferry-tls-"))  # mkdtemp creates it 0700
    try:
        return TLSFiles(
            directory=directory,
            ca=_write_private(directory / "ca.crt", ca_pem) if ca_pem else None,
            cert=_write_private(directory / "tls.crt", cert_pem) if cert_pem else None,
            key=_write_private(directory / "tls.key", key_pem) if key_pem else None,
        )
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise


def remove_tls_files(files: TLSFiles) -> None:
    shutil.rmtree(files.directory, ignore_errors=True)


@contextmanager
def tls_files(ca_pem: str | None, cert_pem: str | None, key_pem: str | None) -> Iterator[TLSFiles]:
    """The material as private files that exist exactly as long as the `with` block."""
    files = write_tls_files(ca_pem, cert_pem, key_pem)
    try:
        yield files
    finally:
        remove_tls_files(files)


def ssl_context(
    mode: TLSMode, ca_pem: str | None, cert_pem: str | None = None, key_pem: str | None = None
) -> ssl.SSLContext | None:
    """An SSL context implementing `mode` with libpq's semantics; None for `disable`.

    - require: encrypt, do not verify the server certificate;
    - verify-ca: the certificate must chain to the given CA;
    - verify-full: and its name must match the host.
    """
    if mode == TLSMode.DISABLE:
        return None
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    if mode == TLSMode.REQUIRE:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    else:
        if not ca_pem:
            raise TLSMaterialError(f"tls.mode {mode.value} needs a CA certificate (tls.caSecretRef)")
        try:
            context.load_verify_locations(cadata=ca_pem)
        except (ssl.SSLError, ValueError):
            raise TLSMaterialError(
                "the CA certificate (tls.caSecretRef) is not a valid PEM certificate"
            ) from None
        context.check_hostname = mode == TLSMode.VERIFY_FULL
        context.verify_mode = ssl.CERT_REQUIRED
    if cert_pem or key_pem:
        if not (cert_pem and key_pem):
            raise TLSMaterialError("a client certificate needs both the certificate and its key")
        with tls_files(None, cert_pem, key_pem) as files:
            try:
                context.load_cert_chain(str(files.cert), str(files.key))
            except (ssl.SSLError, ValueError):
                raise TLSMaterialError(
                    "the client certificate or key (tls.clientCertSecretRef) is not valid PEM"
                    " or the two do not match"
                ) from None
    return context
