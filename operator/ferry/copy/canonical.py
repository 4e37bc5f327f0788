"""Canonical text of a value for checksums, chosen by the *target* column type.

Both sides of a validation are read in Python and every value goes through the same
function of the target type, so a MySQL tinyint 1 and a PostgreSQL `true`, a naive MySQL
DATETIME and a UTC timestamptz, `1.50` and `1.5`, or two spellings of one JSON document
compare equal, while any real difference in content does not. Temporal values given as
text (PostgreSQL text projections) are parsed first, so text and typed reads agree.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Sequence
from decimal import Decimal, InvalidOperation

import orjson

from ferry.copy.render import text_value

Canon = Callable[[object], str]
NULL_MARK = "\x00N"


def _base(type_text: str) -> str:
    t = type_text.lower().strip()
    t = t.split("(")[0].strip() if "(" in t else t
    return t.removesuffix(" unsigned").strip()


def _as_bool(v: object) -> str:
    if isinstance(v, str):
        return "t" if v.strip().lower() in ("t", "true", "1", "y", "yes", "on") else "f"
    return "t" if v else "f"


def _as_int(v: object) -> str:
    # A SQLite column declared INT may hold a REAL or text: compared as what it is, not refused.
    if isinstance(v, float) and not v.is_integer():
        return repr(v)
    try:
        return str(int(v))  # type: ignore[call-overload]
    except ValueError:
        return text_value(v)


def _as_decimal(v: object) -> str:
    try:
        d = v if isinstance(v, Decimal) else Decimal(str(v))
    except InvalidOperation:
        return str(v)
    return str(d.normalize()) if d.is_finite() else str(d)


def _as_float(v: object) -> str:
    if isinstance(v, str):
        v = v.replace("Infinity", "inf")
    return repr(float(v))  # type: ignore[arg-type]


def _utc_naive(value: dt.datetime) -> dt.datetime:
    if value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def _as_timestamp(v: object) -> str:
    if isinstance(v, str):
        try:
            parsed = dt.datetime.fromisoformat(v)
        except ValueError:
            return v
        return _utc_naive(parsed).isoformat(sep=" ", timespec="microseconds")
    if isinstance(v, dt.datetime):
        return _utc_naive(v).isoformat(sep=" ", timespec="microseconds")
    return str(v)


def _as_date(v: object) -> str:
    if isinstance(v, dt.datetime):
        return v.date().isoformat()
    return v.isoformat() if isinstance(v, dt.date) else str(v)


def _as_time(v: object) -> str:
    value: object = v
    if isinstance(v, dt.timedelta):
        value = (dt.datetime.min + v).time()
    elif isinstance(v, str):
        try:
            value = dt.time.fromisoformat(v)
        except ValueError:
            return v
    if isinstance(value, dt.time):
        return value.replace(tzinfo=None).isoformat(timespec="microseconds")
    return str(value)


_INTERVAL = re.compile(r"^(?:(-?\d+) days? ?)?(-)?(\d+):(\d\d):(\d\d)(?:\.(\d{1,6}))?$")


def _as_interval(v: object) -> str:
    """A duration as whole microseconds: MySQL TIME arrives as a timedelta, PostgreSQL's
    interval is read as its text ('838:59:59', '-00:00:01.25', '1 day 02:00:00')."""
    if isinstance(v, dt.timedelta):
        return str((v.days * 86400 + v.seconds) * 1_000_000 + v.microseconds)
    match = _INTERVAL.match(str(v).strip())
    if not match:
        return str(v)
    days, negative, hours, minutes, seconds, fraction = match.groups()
    micros = ((int(hours) * 60 + int(minutes)) * 60 + int(seconds)) * 1_000_000
    micros += int((fraction or "0").ljust(6, "0"))
    return str(int(days or 0) * 86_400_000_000 + (-micros if negative else micros))


# orjson's output that may differ from json.dumps's: a float in exponent form or below 1e-4 (json
# writes `1e-05`, `1e+16`; orjson `0.00001`, `1e-7`), and an integer beyond 64 bits, which
# orjson reads as a float. The pattern may also match inside a string: then json decides, alike.
_ORJSON_UNSURE = re.compile(rb"e[+-]|0\.0000")


def _as_json(v: object) -> str:
    """Parsed and printed with sorted keys, compactly. orjson where its text is json's (10x as
    fast; proven by a property test), json for the rest (NaN, lone surrogates, big numbers)."""
    if isinstance(v, str | bytes):
        try:
            fast = orjson.dumps(orjson.loads(v), option=orjson.OPT_SORT_KEYS)
        except (ValueError, TypeError):  # orjson.JSONDecodeError, orjson.JSONEncodeError
            fast = b"e+"
        if not _ORJSON_UNSURE.search(fast):
            return fast.decode()
    return _as_json_slow(v)


def _as_json_slow(v: object) -> str:
    try:
        doc = json.loads(v) if isinstance(v, str | bytes) else v
    except ValueError:
        return str(v)
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _as_bytes(v: object) -> str:
    if isinstance(v, str):
        return v[2:].lower() if v.startswith("\\x") else v.encode().hex()
    return str(bytes(v).hex())  # type: ignore[call-overload]


def _as_text(v: object) -> str:
    if isinstance(v, bytes | bytearray | memoryview):
        return bytes(v).decode(errors="replace")
    return text_value(v)


_BY_BASE: dict[str, Canon] = {
    **dict.fromkeys(("boolean", "bool"), _as_bool),
    **dict.fromkeys(
        ("smallint", "integer", "int", "bigint", "int2", "int4", "int8", "tinyint", "mediumint", "serial"),
        _as_int,
    ),
    **dict.fromkeys(("numeric", "decimal"), _as_decimal),
    **dict.fromkeys(("real", "double precision", "float", "double", "float4", "float8"), _as_float),
    **dict.fromkeys(
        (
            "timestamp",
            "timestamptz",
            "timestamp with time zone",
            "timestamp without time zone",
            "datetime",
        ),
        _as_timestamp,
    ),
    "date": _as_date,
    **dict.fromkeys(("time", "time without time zone", "timetz", "time with time zone"), _as_time),
    **dict.fromkeys(("json", "jsonb"), _as_json),
    "interval": _as_interval,
    **dict.fromkeys(
        ("bytea", "blob", "longblob", "mediumblob", "tinyblob", "binary", "varbinary"), _as_bytes
    ),
    "uuid": lambda v: str(v).lower(),
}


def canonical_for(target_type: str) -> Canon:
    """The canonical-text function of a target column type; NULL is handled by the caller."""
    base = _base(target_type)
    if base.startswith("tinyint") and "(1)" in target_type.replace(" ", ""):
        return _as_bool
    return _BY_BASE.get(base, _as_text)


def canonical_row(values: Sequence[object], canons: Sequence[Canon]) -> str:
    return "\x1e".join([NULL_MARK if v is None else c(v) for v, c in zip(values, canons, strict=True)])
