"""Transforms: deterministic hashes, masks that keep the shape, encryption that decrypts."""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ferry.api.migration import Transform
from ferry.copy.transforms import TransformError, aes_key, compile_transform, decrypt, mask_value


class Secrets:
    def get(self, name: str, key: str) -> str:
        return {"hmac": "pepper", "aes": "k" * 32}[key]


def _compile(**fields: object) -> Callable[[object], object]:
    return compile_transform(Transform.model_validate({"column": "c", **fields}), Secrets())


def test_hash_is_deterministic_keyed_hex_and_keeps_null() -> None:
    fn = _compile(type="hash", keySecretRef={"name": "s", "key": "hmac"})
    assert fn("a@b.c") == fn("a@b.c") and len(str(fn("a@b.c"))) == 64
    assert fn(42) == fn("42")  # an integer key hashes like its digits, so keys and foreign keys agree
    assert fn("a") != fn("b") and fn(None) is None


@given(st.text(), st.integers(0, 5), st.integers(0, 5))
def test_mask_keeps_length_and_hides_the_middle(value: str, first: int, last: int) -> None:
    masked = mask_value(value, first, last, "*")
    assert len(masked) == len(value)
    if len(value) > first + last:
        assert masked[:first] == value[:first] and masked[len(value) - last :] == value[len(value) - last :]
    else:
        assert set(masked) <= {"*"}


def test_encrypt_is_randomised_and_decrypts() -> None:
    fn = _compile(type="encrypt", keySecretRef={"name": "s", "key": "aes"})
    a, b = fn("123-45-6789"), fn("123-45-6789")
    assert isinstance(a, bytes) and a != b
    assert decrypt("k" * 32, a) == decrypt("k" * 32, b) == b"123-45-6789"


def test_aes_keys_are_read_raw_base64_or_hex() -> None:
    raw = bytes(range(32))
    assert aes_key(base64.b64encode(raw).decode()) == raw == aes_key(raw.hex())
    with pytest.raises(TransformError):
        aes_key("too short")


def test_constant_null_and_cast() -> None:
    assert (
        compile_transform(Transform.model_validate({"column": "c", "type": "constant", "value": "x"}), None)(
            1
        )
        == "x"
    )
    assert compile_transform(Transform.model_validate({"column": "c", "type": "null"}), None)("v") is None
    cast = compile_transform(
        Transform.model_validate({"column": "c", "type": "castTo", "castTo": "boolean"}), None
    )
    assert cast("1") is True and cast(None) is None
