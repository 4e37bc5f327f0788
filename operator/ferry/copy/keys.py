"""Key values as JSON: how checkpoints and work-unit bounds store a position in a table.

A key is a tuple with one value per key column, in the *source's* own form:
- PostgreSQL sources give text (`key::text`), which round-trips exactly through a cast
  back to the column type (floats print shortest-exact since PostgreSQL 12; sessions run
  with TimeZone UTC so timestamptz text is stable).
- MySQL/MariaDB sources give driver values; those that JSON lacks are tagged
  (`{"$b": base64}` for bytes, `{"$d": "1.50"}` for decimals, `{"$t": "..."}` for dates and
  times) and decode back to the same Python type, which PyMySQL binds faithfully.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

Key = tuple[Any, ...]


def _encode_value(value: object) -> object:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return {"$f": repr(value)}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"$b": base64.b64encode(bytes(value)).decode()}
    if isinstance(value, Decimal):
        return {"$d": str(value)}
    if isinstance(value, dt.datetime):
        return {"$dt": value.isoformat()}
    if isinstance(value, dt.date):
        return {"$date": value.isoformat()}
    if isinstance(value, dt.timedelta):
        return {"$td": value.total_seconds()}
    return str(value)


def _decode_value(value: object) -> object:
    if not isinstance(value, dict):
        return value
    (tag, raw), *_ = value.items()
    decoders: dict[str, Any] = {
        "$f": float,
        "$b": base64.b64decode,
        "$d": Decimal,
        "$dt": dt.datetime.fromisoformat,
        "$date": dt.date.fromisoformat,
        "$td": lambda s: dt.timedelta(seconds=s),
    }
    return decoders[tag](raw)


def encode_key(key: Sequence[object] | None) -> str | None:
    if key is None:
        return None
    return json.dumps([_encode_value(v) for v in key], separators=(",", ":"), ensure_ascii=False)


def decode_key(text: str | None) -> Key | None:
    if text is None:
        return None
    return tuple(_decode_value(v) for v in json.loads(text))


def describe_key(key: Sequence[object] | None) -> str:
    """A short human form for status and logs: "(42)", "('a', 7)"."""
    if key is None:
        return "-"
    return "(" + ", ".join(repr(v) for v in key) + ")"
