"""A self-signed CA, a server certificate for 127.0.0.1/localhost, and TLS PostgreSQL and MariaDB servers.

Shared by the integration and e2e tests of DatabaseConnection TLS modes.
"""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from harness.databases import MariaDBServer, PostgresServer


@dataclass(frozen=True)
class Pki:
    ca_pem: str
    server_cert_pem: str
    server_key_pem: str


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _key_pem(key: ec.EllipticCurvePrivateKey) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def make_pki(ca_name: str = "ferry-test-db-ca", hosts: tuple[str, ...] = ("127.0.0.1", "localhost")) -> Pki:
    now = datetime.datetime.now(datetime.UTC)
    start, end = now - datetime.timedelta(hours=1), now + datetime.timedelta(days=2)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name(ca_name))
        .issuer_name(_name(ca_name))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    server_key = ec.generate_private_key(ec.SECP256R1())
    names: list[x509.GeneralName] = []
    for host in hosts:
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    server_cert = (
        x509.CertificateBuilder()
        .subject_name(_name(hosts[0]))
        .issuer_name(ca_cert.subject)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(end)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True
        )
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.SubjectAlternativeName(names), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )
    return Pki(
        ca_pem=ca_cert.public_bytes(serialization.Encoding.PEM).decode(),
        server_cert_pem=server_cert.public_bytes(serialization.Encoding.PEM).decode(),
        server_key_pem=_key_pem(server_key),
    )


def _server_files(base_dir: Path, pki: Pki) -> tuple[Path, Path]:
    base_dir.mkdir(parents=True, exist_ok=True)
    cert, key = base_dir / "server.crt", base_dir / "server.key"
    cert.write_text(pki.server_cert_pem)
    key.write_text(pki.server_key_pem)
    key.chmod(0o600)
    return cert, key


def start_tls_postgres(base_dir: Path, pki: Pki) -> PostgresServer:
    """A PostgreSQL server that offers TLS with `pki`'s server certificate (and still allows plain TCP)."""
    cert, key = _server_files(base_dir, pki)
    settings = {"ssl": "on", "ssl_cert_file": f"'{cert}'", "ssl_key_file": f"'{key}'"}
    return PostgresServer(
        base_dir, settings=settings, hba_lines=["hostssl all all 127.0.0.1/32 scram-sha-256"]
    ).start()


def start_tls_mariadb(base_dir: Path, pki: Pki) -> MariaDBServer:
    """A MariaDB server that offers TLS with `pki`'s server certificate (plain TCP still allowed)."""
    cert, key = _server_files(base_dir, pki)
    return MariaDBServer(base_dir, extra_args=(f"--ssl-cert={cert}", f"--ssl-key={key}")).start()
