"""Per-column transforms, compiled once per table into plain functions `value -> value`.

- hash: HMAC-SHA256 of the value's canonical bytes, as 64 hex characters. Deterministic
  for one key, so a hashed key still joins with a hashed foreign key in another table.
- mask: keep the first/last characters, replace the rest with the mask character; the
  length is kept, so the value fits the declared column. A value too short to hide
  anything is masked whole.
- null, constant: the value is replaced (constant is text; the target parses it).
- encrypt: AES-GCM with a 16/24/32-byte key, output `nonce (12 bytes) || ciphertext+tag`
  as bytes (the target column must be bytea/blob); `decrypt` reverses it.
- castTo: the target parses the value into the new type; the row path (not the binary
  pass-through) is taken, and values are coerced where a driver needs it.
NULL stays NULL for hash, mask, encrypt and castTo.

Canonical bytes of a value: text as UTF-8, bytes as they are, anything else `str(value)`
as UTF-8 (so an integer key and an integer foreign key hash alike).

Keys come from Secrets through a SecretSource. A key is used as its UTF-8 bytes; for
encrypt, a value that is not 16/24/32 bytes long is read as base64, then as hex.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
from collections.abc import Callable
from decimal import Decimal

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ferry.api.migration import Transform, TransformType
from ferry.db.credentials import SecretSource

ValueFn = Callable[[object], object]
NONCE_BYTES = 12


class TransformError(ValueError):
    """A transform cannot be set up (bad key length, missing key reference)."""


def canonical_bytes(value: object) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, bytearray | memoryview):
        return bytes(value)
    return str(value).encode()


def hash_value(key: bytes, value: object) -> str:
    return hmac.new(key, canonical_bytes(value), hashlib.sha256).hexdigest()


def mask_value(value: str, keep_first: int, keep_last: int, mask_char: str) -> str:
    n = len(value)
    if n <= keep_first + keep_last:
        return mask_char * n
    tail = value[n - keep_last :] if keep_last else ""
    return value[:keep_first] + mask_char * (n - keep_first - keep_last) + tail


def aes_key(secret_value: str) -> bytes:
    raw = secret_value.encode()
    if len(raw) in (16, 24, 32):
        return raw
    for decode in (base64.b64decode, bytes.fromhex):
        try:
            candidate = decode(secret_value.strip())
        except (binascii.Error, ValueError):
            continue
        if len(candidate) in (16, 24, 32):
            return candidate
    raise TransformError("the encryption key must be 16, 24 or 32 bytes (raw, base64 or hex)")


def encrypt_value(key: bytes, value: object) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return nonce + AESGCM(key).encrypt(nonce, canonical_bytes(value), None)


def decrypt(key: bytes | str, blob: bytes) -> bytes:
    """The plaintext bytes of an `encrypt` output; `key` as in the Secret or as raw bytes."""
    raw = aes_key(key) if isinstance(key, str) else key
    return AESGCM(raw).decrypt(bytes(blob[:NONCE_BYTES]), bytes(blob[NONCE_BYTES:]), None)


def _null_safe(fn: ValueFn) -> ValueFn:
    def apply(value: object) -> object:
        return None if value is None else fn(value)

    return apply


def coerce_to(type_text: str) -> ValueFn:
    """Value conversion for castTo where the target driver needs a Python type, not text."""
    base = type_text.lower().split("(")[0].strip()
    if base in ("boolean", "bool"):
        return lambda v: v if isinstance(v, bool) else str(v).lower() in ("1", "t", "true", "y", "yes", "on")
    if base in ("smallint", "integer", "int", "bigint", "int2", "int4", "int8", "tinyint", "mediumint"):
        return lambda v: int(v)  # type: ignore[call-overload]
    if base in ("numeric", "decimal"):
        return lambda v: Decimal(str(v))
    if base in ("real", "double precision", "float", "double", "float4", "float8"):
        return lambda v: float(v)  # type: ignore[arg-type]
    if base in ("text", "varchar", "character varying", "char", "character", "longtext", "mediumtext"):
        return lambda v: v.decode() if isinstance(v, bytes) else str(v)
    return lambda v: v


def secret_key(transform: Transform, secrets: SecretSource | None) -> str:
    ref = transform.key_secret_ref
    if ref is None or secrets is None:
        raise TransformError(f'transform {transform.type} of column "{transform.column}" needs keySecretRef')
    return secrets.get(ref.name, ref.key)


def compile_transform(transform: Transform, secrets: SecretSource | None, target_type: str = "") -> ValueFn:
    kind = transform.type
    if kind == TransformType.HASH:
        key = secret_key(transform, secrets).encode()
        return _null_safe(lambda v: hash_value(key, v))
    if kind == TransformType.MASK:
        first, last, char = transform.keep_first, transform.keep_last, transform.mask_char
        return _null_safe(lambda v: mask_value(str(v), first, last, char))
    if kind == TransformType.NULL:
        return lambda v: None
    if kind == TransformType.CONSTANT:
        constant = transform.value
        return lambda v: constant
    if kind == TransformType.ENCRYPT:
        aes = aes_key(secret_key(transform, secrets))
        return _null_safe(lambda v: encrypt_value(aes, v))
    if kind == TransformType.CAST_TO:
        return _null_safe(coerce_to(transform.cast_to or target_type))
    raise TransformError(f"unknown transform type {kind}")
