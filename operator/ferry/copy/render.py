"""Rows of Python values as PostgreSQL COPY text: the row path into a PostgreSQL target.

Text format lets the target parse every value into its own column type (a MySQL tinyint
`1` into boolean, a castTo into another type, PostgreSQL text forms of arrays or ranges),
so the engine needs no per-type binary encoder; asyncpg's binary encoders refuse dict
jsonb values and custom codecs (see copy-speed.md).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator, Iterable, Sequence

NULL = "\\N"
_ESCAPES = str.maketrans({"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"})
CHUNK_BYTES = 64 * 1024


def _timedelta_text(value: dt.timedelta) -> str:
    # MySQL TIME arrives as a timedelta; PostgreSQL time/interval both read HH:MM:SS[.ffffff].
    sign = "-" if value < dt.timedelta(0) else ""
    total = abs(value)
    hours, rest = divmod(total.days * 86400 + total.seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    frac = f".{total.microseconds:06d}" if total.microseconds else ""
    return f"{sign}{hours:02d}:{minutes:02d}:{seconds:02d}{frac}"


def text_value(value: object) -> str:
    """One value in PostgreSQL input syntax, before COPY escaping."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value).replace("inf", "Infinity").replace("nan", "NaN")
    if isinstance(value, bytes | bytearray | memoryview):
        return "\\x" + bytes(value).hex()
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return _timedelta_text(value)
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, set | frozenset):  # a MySQL SET
        return ",".join(sorted(str(v) for v in value))
    return str(value)


def copy_line(row: Sequence[object]) -> str:
    return (
        "\t".join(NULL if v is None else text_value(v).replace("\x00", "").translate(_ESCAPES) for v in row)
        + "\n"
    )


async def copy_text_chunks(batches: AsyncIterator[Iterable[Sequence[object]]]) -> AsyncIterator[bytes]:
    """COPY text data in chunks of about CHUNK_BYTES, from batches of rows."""
    parts: list[str] = []
    size = 0
    async for rows in batches:
        for row in rows:
            line = copy_line(row)
            parts.append(line)
            size += len(line)
            if size >= CHUNK_BYTES:
                yield "".join(parts).encode()
                parts, size = [], 0
    if parts:
        yield "".join(parts).encode()
