"""MySQL/MariaDB values that PostgreSQL has no input for, converted as the plan says.

Both read paths convert alike, so the copy and the checksum of validation see the same
values: the server-formatted CSV path in SQL (`csv_field`), the row path in Python
(`value_fix`, applied by `ferry.copy.projection.Projection.apply`).

- Zero dates: MySQL stores '0000-00-00', '2024-00-00' and year 0 in DATE, DATETIME and
  TIMESTAMP columns (sql_mode without NO_ZERO_DATE / NO_ZERO_IN_DATE, the default of old
  servers and of many web applications). PostgreSQL rejects them; they are written as NULL
  and the plan relaxes the target column's NOT NULL (`ferry.schema.mysql_postgresql`).
  PyMySQL returns such values as their text (it cannot build a Python date), so on the row
  path a string in a date column is a zero date.
  With zeroDates: error the column keeps NOT NULL and a zero date fails the batch, whose
  transaction rolls back: the row path raises `ZeroDateFound`; the CSV path writes a marker,
  `ferry-zero-date-<hex of the column name>`, as the field (the check is the one the NULL
  conversion makes on the server). The worker looks for it in each block of lines before
  sending it (`marked_column`: a substring search, about 2 ms per 4 MB block; only tables
  with such a column pay it) and raises `ZeroDateFound`; should it pass anyway, no
  PostgreSQL date or timestamp input accepts it, and `zero_date_column` reads the column
  back from the target's error. The search is what keeps the marker out of a target column
  the user made text (schema mode none, or create over an existing table). Neither carries a
  value of the row; the copy reports the column and the batch's key range
  (`ferry.copy.runner`).
- TINYINT(1) into boolean: MySQL's BOOLEAN is a TINYINT and holds any value; PostgreSQL's
  boolean input takes 0 and 1 only. Any non-zero value is true, as in MySQL's own `IF(x, …)`.
- BIT(n) into bit(n): the driver gives big-endian bytes; bit(n) input is a string of
  exactly n binary digits.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from ferry.schema.mapping import ColumnMapping
from ferry.schema.mysql_postgresql import holds_zero_dates

ValueFix = Callable[[object], object]

ZERO_DATE_MARK = "ferry-zero-date-"
_MARKED = re.compile(re.escape(ZERO_DATE_MARK) + "([0-9a-f]+)")


class ZeroDateFound(Exception):
    """A zero date in a column with zeroDates: error (raised on the row path)."""

    def __init__(self, column: str) -> None:
        super().__init__(f"column {column} holds a zero date (zeroDates: error)")
        self.column = column


class ZeroDateError(Exception):
    """The copy or the checksum met a zero date in a column with zeroDates: error; names the
    table, the column and where, never a value."""


_MARK_BYTES = ZERO_DATE_MARK.encode()
_MARKED_FIELD = re.compile(re.escape(_MARK_BYTES) + rb"([0-9a-f]+)(?=,|\n|$)")


def marked_column(lines: bytes) -> str | None:
    """The column of the first zero-date marker in a block of CSV lines, else None. The marker
    is an unquoted field: it starts a line or follows a comma (text is always quoted)."""
    at = lines.find(_MARK_BYTES)
    while at != -1:
        found = _MARKED_FIELD.match(lines, at)
        if found and (at == 0 or lines[at - 1] in b",\n"):
            try:
                return bytes.fromhex(found.group(1).decode()).decode()
            except ValueError:
                pass
        at = lines.find(_MARK_BYTES, at + 1)
    return None


def zero_date_column(exc: BaseException) -> str | None:
    """The source column a failure reports a zero date of (zeroDates: error), else None: the
    row path's `ZeroDateFound`, or the target's refusal of the CSV path's marker."""
    seen: BaseException | None = exc
    for _ in range(8):  # the exception and its causes
        if seen is None:
            return None
        if isinstance(seen, ZeroDateFound):
            return seen.column
        marked = _MARKED.search(str(seen))
        if marked:
            try:
                return bytes.fromhex(marked.group(1)).decode()
            except ValueError:
                return None
        seen = seen.__cause__ or seen.__context__
    return None


_INTEGERS = frozenset(("tinyint", "smallint", "mediumint", "int", "integer", "bigint", "bool", "boolean"))


def _base(type_text: str) -> str:
    text = type_text.lower().strip()
    return text.split("(")[0].split()[0] if text else ""


def _to_boolean(column: ColumnMapping) -> bool:
    return _base(column.source_type) in _INTEGERS and _base(column.target_type) in ("boolean", "bool")


def _bit_width(column: ColumnMapping) -> int | None:
    target = column.target_type.lower().replace(" ", "")
    if _base(column.source_type) != "bit" or not target.startswith("bit("):
        return None
    return int(target[4:].rstrip(")"))


def csv_field(column: ColumnMapping, name: str) -> str | None:
    """The server expression of a converted column's CSV field; None: no conversion needed."""
    if column.transform is not None:
        return None
    if holds_zero_dates(column.source_type):
        zero = f"YEAR({name}) = 0 OR MONTH({name}) = 0 OR DAYOFMONTH({name}) = 0"
        if column.zero_dates_error:  # the target refuses the marker: COPY fails, nothing is written
            return f"IF({zero}, '{ZERO_DATE_MARK}{column.source.encode().hex()}', {name})"
        return f"IF({zero}, NULL, {name})"
    if _to_boolean(column):
        return f"({name} <> 0)"
    width = _bit_width(column)
    if width is not None:
        return f"LPAD(BIN({name}), {width}, '0')"
    return None


def _zero_date_to_null(value: object) -> object:
    return None if isinstance(value, str | bytes) else value


def _zero_date_fails(column: str) -> ValueFix:
    def fix(value: object) -> object:
        if isinstance(value, str | bytes):
            raise ZeroDateFound(column)
        return value

    return fix


def _nonzero(value: object) -> object:
    return None if value is None else value != 0


def _bits(width: int) -> ValueFix:
    def fix(value: object) -> object:
        if isinstance(value, bytes | bytearray):
            return format(int.from_bytes(value, "big"), f"0{width}b")
        return value

    return fix


def value_fix(column: ColumnMapping) -> ValueFix | None:
    """The row-path conversion of one column's driver value; None when the value passes as is."""
    if column.transform is not None:
        return None
    if holds_zero_dates(column.source_type):
        return _zero_date_fails(column.source) if column.zero_dates_error else _zero_date_to_null
    if _to_boolean(column):
        return _nonzero
    width = _bit_width(column)
    return None if width is None else _bits(width)
