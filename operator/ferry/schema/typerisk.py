"""How risky is changing a target column from one type to another?

`safe`: every existing value converts exactly (widening). `lossy`: values may lose
precision, range, time zone or may fail to convert (narrowing). `destructive`: strings are
cut (length shrinks), so data is destroyed, not just rounded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ferry.schema.operations import Risk

SAFE, LOSSY, DESTRUCTIVE = Risk.SAFE, Risk.LOSSY, Risk.DESTRUCTIVE

_INT_BYTES = {
    "smallint": 2,
    "integer": 4,
    "bigint": 8,  # PostgreSQL
    "tinyint": 1,
    "mediumint": 3,
    "int": 4,  # MySQL
}
_INT_DIGITS = {1: 3, 2: 5, 3: 8, 4: 10, 8: 19}
_STRING = re.compile(r"^(varchar|char|character varying|character|nvarchar|nchar)(?:\((\d+)\))?$")
_NUMERIC = re.compile(r"^(?:numeric|decimal)(?:\((\d+)(?:,(\d+))?\))?$")
_TIMEISH = re.compile(r"^(timestamptz|timestamp|timetz|time|datetime)(?:\((\d)\))?$")
_TEXT = {"text", "tinytext", "mediumtext", "longtext", "clob"}
_FLOAT_BITS = {"real": 24, "float": 24, "double precision": 53, "double": 53}


@dataclass(frozen=True)
class TypeChange:
    risk: Risk
    reason: str


def _int_bytes(t: str) -> int | None:
    base, _, unsigned = t.partition(" unsigned")
    if base in _INT_BYTES:
        # an unsigned integer needs one more byte of signed range
        return _INT_BYTES[base] * 2 if " unsigned" in t and unsigned == "" else _INT_BYTES[base]
    return None


def _string_len(t: str) -> int | None:
    """Length of a character type; a very large number for unbounded text."""
    if t in _TEXT or t == "varchar":
        return 1 << 40
    m = _STRING.match(t)
    return int(m.group(2) or 1) if m else None


def classify(old: str, new: str) -> TypeChange:
    """Risk of `ALTER COLUMN ... TYPE new` on a column that is `old` today."""
    old, new = old.strip(), new.strip()
    if old == new:
        return TypeChange(SAFE, "same type")
    if new in _TEXT:
        return TypeChange(SAFE, f"{old} values fit in {new}")
    for check in (_ints, _numerics, _strings, _floats, _times):
        result = check(old, new)
        if result is not None:
            return result
    if {old, new} == {"json", "jsonb"}:
        return TypeChange(SAFE, "json and jsonb hold the same documents (jsonb drops duplicate keys)")
    return TypeChange(LOSSY, f"converting {old} to {new} may fail or change values")


def _ints(old: str, new: str) -> TypeChange | None:
    ob, nb = _int_bytes(old), _int_bytes(new)
    if ob is not None and nb is not None:
        if nb >= ob:
            return TypeChange(SAFE, f"{new} holds every {old} value")
        return TypeChange(LOSSY, f"narrowing {old} to {new}: values out of range fail")
    n = _NUMERIC.match(new)
    if ob is not None and n:
        if n.group(1) is None:
            return TypeChange(SAFE, f"{new} holds every {old} value")
        digits = int(n.group(1)) - int(n.group(2) or 0)
        if digits >= _INT_DIGITS.get(ob, 20):
            return TypeChange(SAFE, f"{new} holds every {old} value")
        return TypeChange(LOSSY, f"{new} has {digits} integer digits, fewer than {old} needs")
    if nb is not None and (_NUMERIC.match(old) or old in _FLOAT_BITS):
        return TypeChange(LOSSY, f"{old} to {new} drops fractions and may overflow")
    return None


def _numerics(old: str, new: str) -> TypeChange | None:
    o, n = _NUMERIC.match(old), _NUMERIC.match(new)
    if not (o and n):
        return None
    if n.group(1) is None:
        return TypeChange(SAFE, "unconstrained numeric holds every value")
    if o.group(1) is None:
        return TypeChange(LOSSY, f"precision loss: unconstrained {old} to {new}")
    op, os_ = int(o.group(1)), int(o.group(2) or 0)
    np_, ns = int(n.group(1)), int(n.group(2) or 0)
    if ns < os_:
        return TypeChange(LOSSY, f"precision loss: scale {os_} to {ns} rounds values")
    if np_ - ns < op - os_:
        return TypeChange(
            LOSSY, f"narrowing: {np_ - ns} integer digits instead of {op - os_}, large values fail"
        )
    return TypeChange(SAFE, f"{new} holds every {old} value")


def _strings(old: str, new: str) -> TypeChange | None:
    ol, nl = _string_len(old), _string_len(new)
    if nl is None:
        return None
    if ol is None:
        return TypeChange(SAFE, f"{old} values convert to text") if nl >= 64 else None
    if nl >= ol:
        return TypeChange(SAFE, f"{new} is at least as long as {old}")
    return TypeChange(DESTRUCTIVE, f"truncation: {old} values longer than {nl} characters are cut or fail")


def _floats(old: str, new: str) -> TypeChange | None:
    if new in _FLOAT_BITS:
        if old in _FLOAT_BITS:
            if _FLOAT_BITS[new] >= _FLOAT_BITS[old]:
                return TypeChange(SAFE, f"{new} holds every {old} value")
            return TypeChange(LOSSY, f"precision loss: {old} to {new}")
        ob = _int_bytes(old)
        if ob is not None:
            exact = (ob <= 2) if _FLOAT_BITS[new] == 24 else (ob <= 4)
            return TypeChange(
                SAFE if exact else LOSSY, f"{old} in {new}" + ("" if exact else ": precision loss")
            )
        if _NUMERIC.match(old):
            return TypeChange(LOSSY, f"precision loss: {old} to binary floating point {new}")
    return None


def _times(old: str, new: str) -> TypeChange | None:
    o, n = _TIMEISH.match(old), _TIMEISH.match(new)
    if o and n:
        ok, nk = o.group(1), n.group(1)
        op, np_ = int(o.group(2) or 6), int(n.group(2) or 6)
        if {ok, nk} == {"timestamp", "timestamptz"} or {ok, nk} == {"time", "timetz"}:
            return TypeChange(LOSSY, f"{old} to {new} reinterprets values in the session time zone")
        if ok == nk or {ok, nk} == {"timestamp", "datetime"}:
            if np_ >= op:
                return TypeChange(SAFE, f"{new} keeps the precision of {old}")
            return TypeChange(LOSSY, f"precision loss: fractional seconds {op} to {np_} digits")
        if ok.startswith("timestamp") and nk.startswith("time"):
            return TypeChange(DESTRUCTIVE, f"{old} to {new} drops the date")
    if old.startswith("timestamp") and new == "date":
        return TypeChange(LOSSY, f"{old} to date drops the time of day")
    if old == "date" and n and n.group(1).startswith("timestamp"):
        return TypeChange(SAFE, f"dates become midnight {new}")
    return None
