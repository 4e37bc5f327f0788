"""Scrub secrets out of text before it is logged, stored in a status or posted as an event.

Two complementary nets:
- a registry of known secret values (passwords, DSNs, private keys) that Ferry has read;
  every occurrence of one is replaced, whatever the text around it looks like;
- patterns for secrets Ferry never saw as values: passwords in URLs (`scheme://user:pw@`),
  `password=…`/`token=…` pairs, bearer tokens and PEM private keys.

Pure and dependency-free, so `ferry.db` can scrub its error messages with it too.
"""

from __future__ import annotations

import base64
import re
import threading
import urllib.parse
from collections import OrderedDict
from collections.abc import Iterable

MASK = "***"

# Values shorter than this are not registered: replacing every "abc" in every log line would
# make logs unreadable while protecting nothing (such passwords fall to guessing anyway).
MIN_SECRET_LENGTH = 4
# Bounded so that years of secret rotation cannot grow the process without limit.
MAX_REGISTERED = 4096

_SENSITIVE_KEY = (
    r"(?:password|passwd|pwd|pass|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|sslpassword)"
)

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # scheme://user:password@host  ->  scheme://user:***@host
    (
        re.compile(r"(?P<head>[a-zA-Z][a-zA-Z0-9+.-]*://[^:/?#@\s]*:)(?P<secret>[^@\s/]+)(?=@)"),
        rf"\g<head>{MASK}",
    ),
    # password=value, "password": "value", token: value (libpq DSNs, query strings, JSON, YAML)
    (
        re.compile(
            rf"(?P<head>(?i:[\w.-]*{_SENSITIVE_KEY}[\w.-]*)[\"']?\s*[=:]\s*[\"']?)(?P<secret>[^\s\"'&,;}}]+)",
        ),
        rf"\g<head>{MASK}",
    ),
    # Authorization: Bearer <token>
    (re.compile(r"(?P<head>(?i:bearer)\s+)[A-Za-z0-9._~+/=-]+"), rf"\g<head>{MASK}"),
    # PEM private keys, whole blocks
    (
        re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)", re.DOTALL),
        f"-----{MASK} PRIVATE KEY-----",
    ),
)


class SecretRegistry:
    """Known secret values; thread-safe because probes run in worker threads."""

    def __init__(self) -> None:
        self._values: OrderedDict[str, None] = OrderedDict()
        self._lock = threading.Lock()
        self._pattern: re.Pattern[str] | None = None

    def register(self, value: str | None) -> None:
        if not value or len(value) < MIN_SECRET_LENGTH:
            return
        # As written, base64 (a Secret's data, a basic-auth header) and URL-encoded (a password
        # in a DSN or query string quotes its `@`, `/`, `%`, spaces).
        forms = {
            value,
            base64.b64encode(value.encode()).decode(),
            urllib.parse.quote(value, safe=""),
            urllib.parse.quote_plus(value, safe=""),
        }
        # A PEM block is logged line by line at worst; register its body lines too.
        if "-----BEGIN" in value:
            forms.update(line for line in value.splitlines() if len(line) >= 16 and "-----" not in line)
        with self._lock:
            for form in forms:
                self._values.pop(form, None)
                self._values[form] = None
            while len(self._values) > MAX_REGISTERED:
                self._values.popitem(last=False)
            self._pattern = None

    def register_all(self, values: Iterable[str | None]) -> None:
        for value in values:
            self.register(value)

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
            self._pattern = None

    def scrub(self, text: str) -> str:
        with self._lock:
            if not self._values:
                return text
            if self._pattern is None:
                # Longest first, so a DSN is masked whole before the password inside it.
                ordered = sorted(self._values, key=len, reverse=True)
                self._pattern = re.compile("|".join(re.escape(v) for v in ordered))
            pattern = self._pattern
        return pattern.sub(MASK, text)


REGISTRY = SecretRegistry()


def register_secret(value: str | None) -> None:
    """Remember a secret value so that it is masked wherever it would be written."""
    REGISTRY.register(value)


def redact(text: str, extra_secrets: Iterable[str | None] = ()) -> str:
    """`text` with registered secrets, `extra_secrets` and secret-looking patterns masked."""
    for value in sorted((v for v in extra_secrets if v), key=len, reverse=True):
        text = text.replace(value, MASK)
    text = REGISTRY.scrub(text)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def is_sensitive_key(key: str) -> bool:
    """Whether a structured-log field name says its value is secret (`password`, `db_token`, …)."""
    return re.search(_SENSITIVE_KEY, key, re.IGNORECASE) is not None or key.lower() in {"dsn", "url"}
