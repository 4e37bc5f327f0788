"""PostgreSQL's `jsonb` text of a JSON document, rendered in Python from the document's source text.

The copy writes a MySQL/MariaDB JSON value's text into a `jsonb` column, which PostgreSQL parses
(jsonb_in) and prints back (`x::text`, jsonb_out) in one canonical form. Validation renders the
source's text into that form here, so the target's JSON can be digested by PostgreSQL itself
(ferry.copy.validate_pushdown_mysql). The form, as PostgreSQL 15 prints it:

- Objects `{"k": v, "k2": v2}`, arrays `[a, b]` (`": "` and `", "`), `true`, `false`, `null`.
- Object keys ordered by their UTF-8 length, then by their bytes; a key given twice keeps its
  last value.
- Numbers as `numeric` prints them: the digits as written with the scale they were written with
  (`1.0` stays `1.0`, `1.50` stays `1.50`), exponent forms expanded (`1.5e1` → `15.0`,
  `1e2` → `100`, `1e-2` → `0.01`), no negative zero (`-0.0` → `0.0`).
- Strings with `"`, `\\`, `\\b`, `\\f`, `\\n`, `\\r`, `\\t` escaped and the other characters below
  U+0020 as `\\u00xx` (lowercase hex); everything else as is (escape_json), which is also what
  Python's json encoder writes with ensure_ascii=False.

Documents without fractions, exponents or `,`/`:` inside strings go through orjson (compiled: a
quarter of the json module's time for a small document); the rest through the json module,
numbers kept as their text. NUL characters are removed from the text first, as the copy removes
them. None is returned for what PostgreSQL would not have stored or this module cannot render
exactly: text that is not JSON, NaN or Infinity, `\\u0000` (jsonb refuses it), lone surrogates,
exponents beyond ±1000, integers longer than Python converts, and `\\u0001` on the json module's
way (it marks a number's text there). The caller then compares the canonical way (slower, never
wrong).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import orjson

_MARK = "\x01"  # wraps a number's text, kept as a string through the encoder, unwrapped after
_MARK_ESCAPED = "\\u0001"  # how the encoder writes it
_MARKED_OPEN, _MARKED_CLOSE = '"\\u0001', '\\u0001"'
MAX_EXPONENT = 1000


class _Unrenderable(ValueError):
    pass


def _number(token: str) -> str:
    """A JSON number with a fraction or an exponent as numeric prints it."""
    if "e" in token or "E" in token:
        value = Decimal(token)
        exponent = value.as_tuple().exponent
        if not isinstance(exponent, int) or not -MAX_EXPONENT <= exponent <= MAX_EXPONENT:
            raise _Unrenderable(token)
        token = format(value, "f")
    if token[0] == "-" and not token.strip("-0."):  # numeric has no negative zero
        token = token[1:]
    return _MARK + token + _MARK


def _key_order(pair: tuple[str, Any]) -> tuple[int, str]:
    return (_utf8_length(pair[0]), pair[0])


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    if len(pairs) < 2:
        return dict(pairs)
    return dict(sorted(dict(pairs).items(), key=_key_order))  # dict(pairs): the last value wins


def _constant(name: str) -> object:
    raise _Unrenderable(name)  # NaN, Infinity: not JSON to PostgreSQL


_DECODER = json.JSONDecoder(object_pairs_hook=_object, parse_float=_number, parse_constant=_constant)
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": "), check_circular=False)


class _NotFast(Exception):
    pass


def _reordered(value: Any) -> Any:
    """orjson's reading with objects in jsonb's key order; _NotFast where its text could differ
    from jsonb's: a float (its written digits are lost) or a `,` or `:` inside a string (the
    separators are spaced by replacing them, which must not reach into strings). Scalars are
    checked in the loops, not by a call each: this walk is most of the rendering's time."""
    kind = type(value)
    if kind is dict:
        names = "".join(value)
        if "," in names or ":" in names:
            raise _NotFast
        keys = sorted(value)  # code point order is UTF-8 byte order; then by UTF-8 length, stably
        keys.sort(key=len if names.isascii() else _utf8_length)
        out = {}
        for key in keys:
            item = value[key]
            inner = type(item)
            if inner is dict or inner is list:
                item = _reordered(item)
            elif inner is float or (inner is str and ("," in item or ":" in item)):
                raise _NotFast
            out[key] = item
        return out
    if kind is list:
        return [_reordered(item) for item in value]
    if kind is float or (kind is str and ("," in value or ":" in value)):
        raise _NotFast
    return value


def _utf8_length(key: str) -> int:
    return len(key.encode("utf-8", "surrogatepass"))


def _fast(text: str) -> bytes | None:
    """jsonb's text through orjson (compiled) where that is exact, about four times as fast as
    the json module's reading; None to take the json module's way."""
    try:
        compact = orjson.dumps(_reordered(orjson.loads(text)))
    except (_NotFast, orjson.JSONDecodeError, orjson.JSONEncodeError, RecursionError):
        return None
    return compact.replace(b",", b", ").replace(b":", b": ")


def jsonb_bytes(value: str | bytes) -> bytes | None:
    """The UTF-8 bytes of `value::jsonb::text`, or None when it cannot be rendered exactly."""
    try:
        text = value.decode() if isinstance(value, bytes) else value
        if "\x00" in text:
            text = text.replace("\x00", "")
        if "\\u0000" not in text and (fast := _fast(text)) is not None:
            return fast
        # \u0000: jsonb refuses it. \u0001: the number mark; both rare enough to compare canonically.
        if "\\u000" in text and ("\\u0000" in text or "\\u0001" in text):
            return None
        out = _ENCODER.encode(_DECODER.decode(text))
        if _MARK_ESCAPED in out:
            out = out.replace(_MARKED_OPEN, "").replace(_MARKED_CLOSE, "")
        return out.encode()  # a lone surrogate raises here: jsonb refuses it
    except (ValueError, RecursionError):  # JSONDecodeError, _Unrenderable, UnicodeError
        return None


def jsonb_text(value: str | bytes) -> str | None:
    rendered = jsonb_bytes(value)
    return None if rendered is None else rendered.decode()
