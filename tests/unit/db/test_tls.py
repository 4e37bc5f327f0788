"""TLS material: private files that disappear, and SSL contexts with libpq's mode semantics."""

from __future__ import annotations

import ssl
import stat

import pytest

from ferry.api.connection import TLSMode
from ferry.db.tls import TLSMaterialError, ssl_context, tls_files
from integration.connection.tls_servers import make_pki


def test_files_are_private_and_removed_after_use() -> None:
    pki = make_pki()
    with tls_files(pki.ca_pem, pki.server_cert_pem, pki.server_key_pem) as files:
        assert stat.S_IMODE(files.directory.stat().st_mode) == 0o700
        for path in (files.ca, files.cert, files.key):
            assert path is not None and stat.S_IMODE(path.stat().st_mode) == 0o600
        assert files.key is not None and files.key.read_text() == pki.server_key_pem
    assert not files.directory.exists()


def test_files_are_removed_when_the_block_fails() -> None:
    with pytest.raises(RuntimeError), tls_files("ca", None, None) as files:
        raise RuntimeError("boom")
    assert not files.directory.exists()


def test_contexts_per_mode() -> None:
    pki = make_pki()
    assert ssl_context(TLSMode.DISABLE, pki.ca_pem) is None
    require = ssl_context(TLSMode.REQUIRE, None)
    assert require is not None and require.verify_mode == ssl.CERT_NONE and not require.check_hostname
    verify_ca = ssl_context(TLSMode.VERIFY_CA, pki.ca_pem)
    assert (
        verify_ca is not None and verify_ca.verify_mode == ssl.CERT_REQUIRED and not verify_ca.check_hostname
    )
    full = ssl_context(TLSMode.VERIFY_FULL, pki.ca_pem, pki.server_cert_pem, pki.server_key_pem)
    assert full is not None and full.check_hostname


def test_broken_material_is_named_without_its_content() -> None:
    with pytest.raises(TLSMaterialError, match="caSecretRef") as raised:
        ssl_context(TLSMode.VERIFY_FULL, "not-a-cert-zz9")
    assert "zz9" not in str(raised.value)
    with pytest.raises(TLSMaterialError, match="needs a CA"):
        ssl_context(TLSMode.VERIFY_CA, None)
    pki = make_pki()
    with pytest.raises(TLSMaterialError, match="clientCertSecretRef"):
        ssl_context(TLSMode.REQUIRE, None, pki.server_cert_pem, make_pki().server_key_pem)
