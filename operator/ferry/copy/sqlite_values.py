"""SQLite values as a PostgreSQL or MySQL/MariaDB target column expects them, by the plan's type.

SQLite types values, not columns: a column declared BOOLEAN holds integers, NUMERIC(10,2)
holds REALs (binary fractions), DATE holds whatever text the application wrote. The copy
writes such values as the type mapping (`ferry.schema.typerules`, SQLITE_TO_POSTGRESQL and
SQLITE_TO_MYSQL) says, and validation applies the same fixes to the source side before its checksum
(`Projection.apply_fixes`), so both sides compare the values the target holds:

- boolean: a number is true when it is not zero (PostgreSQL's boolean input takes 0 and 1
  only); text is left to PostgreSQL's input ('t', 'true', 'yes', ...).
- numeric(p,s): a REAL is rounded to s places, half away from zero as PostgreSQL rounds,
  from its shortest decimal form (`repr`): 0.1 + 0.2 is written as 0.30, not 0.30000000000000004.
- date: a date-and-time text ('2021-01-01 00:00:00', which PostgreSQL's date input also
  takes) is written as its date, so the checksum sees the same value on both sides.
- bytea (longblob on MySQL): text in a BLOB column is written as its UTF-8 bytes (what SQLite's
  CAST AS BLOB gives).
- numeric(p,s) is decimal(p,s) on MySQL, rounded alike (MySQL rounds half away from zero too).

Values that no conversion makes valid (a Unix time number in a timestamp column, text in an
integer column) are left as they are: PostgreSQL refuses the batch and names the value.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal

from ferry.schema.mapping import ColumnMapping

ValueFix = Callable[[object], object]

_SCALED = re.compile(r"^(?:numeric|decimal)\(\s*\d+\s*,\s*(\d+)\s*\)$")


def _to_boolean(v: object) -> object:
    return bool(v) if isinstance(v, int | float) else v


def _rounder(scale: int) -> ValueFix:
    step = Decimal(1).scaleb(-scale)

    def fix(v: object) -> object:
        if isinstance(v, float) and v == v and v not in (float("inf"), float("-inf")):
            return Decimal(repr(v)).quantize(step, rounding=ROUND_HALF_UP)
        return v

    return fix


def _to_date(v: object) -> object:
    if isinstance(v, str) and len(v) > 10:
        try:
            return dt.datetime.fromisoformat(v).date()
        except ValueError:
            return v
    return v


def _to_bytes(v: object) -> object:
    return v.encode() if isinstance(v, str) else v


def value_fix(column: ColumnMapping) -> ValueFix | None:
    """The conversion of a column's values into the target; None: none needed."""
    target = column.target_type.lower().replace(" ", "")
    if target in ("boolean", "bool"):
        return _to_boolean
    if scaled := _SCALED.match(target):
        return _rounder(int(scaled.group(1)))
    if target == "date":
        return _to_date
    if target in ("bytea", "longblob"):
        return _to_bytes
    return None
