"""Secrets are masked in free text and in structured log events, whatever form they take."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog

from ferry.observability.logging import configure_logging, get_logger
from ferry.observability.redaction import REGISTRY, redact, register_secret


@pytest.fixture(autouse=True)
def clean_registry() -> Iterator[None]:
    REGISTRY.clear()
    yield
    REGISTRY.clear()


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("postgresql://app:s3cr3t-pw@db:5432/shop", "s3cr3t-pw"),
        ("mysql+pymysql://app:p%40ss%3Aw0rd@db/shop?charset=utf8mb4", "p%40ss%3Aw0rd"),
        ("host=db user=app password=hunter2hunter dbname=x", "hunter2hunter"),
        ('{"password": "js0n-secret", "user": "app"}', "js0n-secret"),
        ("Authorization: Bearer eyJhbGciOi.abc.def", "eyJhbGciOi.abc.def"),
        ("api_token: tok-123456", "tok-123456"),
        ("key:\n-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMG\n-----END PRIVATE KEY-----", "MIGHAgEAMBMG"),
    ],
)
def test_patterns(text: str, secret: str) -> None:
    assert secret not in redact(text)


def test_registered_values_and_their_base64_are_masked_anywhere() -> None:
    register_secret("correct horse battery")
    out = redact("login 'correct horse battery' failed; data Y29ycmVjdCBob3JzZSBiYXR0ZXJ5")
    assert "correct horse" not in out and "Y29ycmVjdCBob3JzZSBiYXR0ZXJ5" not in out


def test_registered_values_are_masked_url_encoded_too() -> None:
    register_secret("p@ss w/rd%1")
    # No `user:…@` or `password=` around them: only the registered forms can catch these.
    out = redact("rejected p%40ss%20w%2Frd%251 and p%40ss+w%2Frd%251 at db:5432")
    assert "p%40ss" not in out and "w%2Frd" not in out and out.endswith("at db:5432"), out


def test_usernames_and_hosts_stay_readable() -> None:
    text = 'password authentication failed for user "app" at db.example:5432'
    assert redact(text) == text


def test_log_lines_from_structlog_and_stdlib_are_scrubbed() -> None:
    stream = io.StringIO()
    configure_logging(logging.DEBUG, json=True, stream=stream)
    try:
        register_secret("pw-from-a-secret")
        get_logger("ferry.test").info(
            "probing", dsn="postgresql://u:x@h/d", password="abc", note="pw-from-a-secret"
        )
        logging.getLogger("kopf.objects").warning("patching with url postgresql://u:pw-from-a-secret@h/d")
        try:
            raise ValueError("bad pw-from-a-secret")
        except ValueError:
            get_logger("ferry.test").exception("failed")
    finally:
        structlog.reset_defaults()
        for handler in list(logging.getLogger().handlers):
            if getattr(handler, "_ferry", False):
                logging.getLogger().removeHandler(handler)
    output = stream.getvalue()
    lines = [json.loads(line) for line in output.splitlines()]
    assert len(lines) == 3
    assert "pw-from-a-secret" not in output and "abc" not in output and "u:x@" not in output
    assert lines[0]["event"] == "probing"
