"""The signature of a notification body: `X-Ferry-Signature: sha256=<hex HMAC-SHA256 of the exact
body bytes>` with a key from a Secret (the scheme GitHub's and Stripe's webhooks use, so receivers
have code for it). The receiver recomputes it over the raw body before parsing it."""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Ferry-Signature"


def signature(body: bytes, key: str) -> str:
    return "sha256=" + hmac.new(key.encode(), body, hashlib.sha256).hexdigest()


def verify(body: bytes, key: str, header: str) -> bool:
    """What a receiver does (and the tests): compare in constant time."""
    return hmac.compare_digest(signature(body, key), header)
