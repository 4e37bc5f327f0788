"""Binlog row values turned into what PyMySQL reads for the same column: the initial copy's values.

The follower hands binlog values to the same projection as the copy's rows
(`ferry.copy.projection`, whose fixes in `ferry.copy.mysql_values` expect PyMySQL's values), so
a value from the binlog must equal what `SELECT col` through PyMySQL returns for that row, with
the copy's session (`time_zone = '+00:00'`, utf8mb4). mysql-replication decodes the row image;
what it returns differently, and the fix (each checked against PyMySQL by
tests/integration/cdc/test_mysql_capture.py on MariaDB 10.11):

- Zero dates ('0000-00-00', '2024-00-00' in DATE / DATETIME): the library gives None and says
  why in `none_sources`; PyMySQL gives the server's text. They become the all-zero text of the
  column ('0000-00-00', '0000-00-00 00:00:00.000' for DATETIME(3)): the copy's fixes only ask
  "a string in a date column?", so a partial zero date ('2024-00-00') reads as the all-zero text
  here and as itself in the copy, and both become NULL (or fail, zeroDates: error) alike.
  A zero TIMESTAMP is stored as 0, which the library turns into 1970-01-01 00:00:00 (a value a
  TIMESTAMP cannot hold: its range starts one second later), so that instant is the zero text.
- An empty SET: the library gives None ('empty set'), PyMySQL ''. A non-empty SET: the library
  gives a Python set, PyMySQL the members joined by commas in definition order.
- BIT(n): the library gives a string of n binary digits, PyMySQL big-endian bytes.
- BINARY(n), UUID, INET6, INET4: the row image drops trailing zero bytes; PyMySQL gives n bytes
  (BINARY), or the server's text form (UUID, INET6, INET4).
- Empty binary strings: the library gives '' (str); PyMySQL b''.
- YEAR 0000: the library adds 1900 to the stored 0.
- FLOAT: the library gives the float32 widened to a double (1.100000023841858); MariaDB
  sends FLOAT as text with 6 significant digits ('1.1'), or with its declared decimals for
  FLOAT(M,D), and PyMySQL parses that. The same formatting gives the same double. DOUBLE is
  exact (MariaDB prints the shortest round-trip text) unless declared DOUBLE(M,D).
- Negative TIME with a fraction ('-00:00:00.001'): the library reads the fraction of the
  stored two's complement as if it were positive, and returns -(s + 1 - f) for -(s + f).
- MySQL's binary JSON: the library gives Python objects with bytes; MySQL sends the text it
  prints (keys in its stored order, ', ' and ': ' separators). MariaDB's JSON is LONGTEXT.

Column names, signedness, character sets and ENUM/SET members are not taken from the binlog
(only `binlog_row_metadata = FULL` carries them); they come from information_schema
(`SourceColumn`) and are set on the library's column descriptions (`describe`), which also
makes binary strings come out as bytes rather than failing to decode as UTF-8.
"""

from __future__ import annotations

import json
import re
import socket
import struct
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

Convert = Callable[[Any], object]

# How the library says why a value is None (pymysqlreplication.constants.NONE_SOURCE).
_ZERO_DATE_SOURCES = frozenset(("out of date range", "out of datetime range", "out of datetime2 range"))
_EMPTY_SET_SOURCE = "empty set"

_EPOCH = datetime(1970, 1, 1)
_MICROS = 1_000_000

_BINARY_STRINGS = frozenset(("binary", "varbinary", "tinyblob", "blob", "mediumblob", "longblob"))
_TEXT = frozenset(("char", "varchar", "tinytext", "text", "mediumtext", "longtext", "json"))
_GEOMETRY = frozenset(
    (
        *("geometry", "point", "linestring", "polygon", "multipoint", "multilinestring", "multipolygon"),
        *("geometrycollection", "geomcollection"),
    )
)

# Binlog type codes (pymysqlreplication.constants.FIELD_TYPE) each information_schema DATA_TYPE
# may be written as: the old and the current temporal formats, VARCHAR and VAR_STRING.
_BINLOG_TYPES: dict[str, frozenset[int]] = {
    "tinyint": frozenset((1,)),
    "smallint": frozenset((2,)),
    "mediumint": frozenset((9,)),
    "int": frozenset((3,)),
    "integer": frozenset((3,)),
    "bigint": frozenset((8,)),
    "float": frozenset((4,)),
    "double": frozenset((5,)),
    "real": frozenset((5,)),
    "decimal": frozenset((246,)),
    "numeric": frozenset((246,)),
    "date": frozenset((10, 14)),
    "datetime": frozenset((12, 18)),
    "timestamp": frozenset((7, 17)),
    "time": frozenset((11, 19)),
    "year": frozenset((13,)),
    "char": frozenset((254,)),
    "binary": frozenset((254,)),
    "uuid": frozenset((254,)),
    "inet6": frozenset((254,)),
    "inet4": frozenset((254,)),
    "varchar": frozenset((15, 253)),
    "varbinary": frozenset((15, 253)),
    "enum": frozenset((247, 254)),
    "set": frozenset((248, 254)),
    "bit": frozenset((16,)),
    "json": frozenset((245, 252)),
    **{name: frozenset((252,)) for name in ("tinytext", "text", "mediumtext", "longtext")},
    **{name: frozenset((252,)) for name in ("tinyblob", "blob", "mediumblob", "longblob")},
    **{name: frozenset((255,)) for name in _GEOMETRY},
}
_TEMPORAL_FSP = frozenset((17, 18, 19))  # TIMESTAMP2, DATETIME2, TIME2 carry their precision
_STRING_TYPES = frozenset((15, 253, 254))
_MYSQL_JSON = 245

# Character sets PyMySQL has no Python codec name for: what the library must decode them with.
_CODECS = {"utf16": "utf-16-be", "utf16le": "utf-16-le", "utf32": "utf-32-be", "ucs2": "utf-16-be"}
_BINARY_CHARSET = "binary"  # the library returns the raw bytes for a charset Python cannot decode


@dataclass(frozen=True)
class SourceColumn:
    """One column of a followed table as information_schema.COLUMNS describes it."""

    name: str
    data_type: str  # DATA_TYPE, lowercase: int, varchar, enum, datetime, uuid ...
    column_type: str  # COLUMN_TYPE as the server spells it: "int(10) unsigned", "enum('a','b')"
    charset: str | None = None  # CHARACTER_SET_NAME (None for numbers, dates and binary strings)
    octet_length: int | None = None  # CHARACTER_OCTET_LENGTH
    precision: int | None = None  # NUMERIC_PRECISION (digits; bits for BIT)
    scale: int | None = None  # NUMERIC_SCALE
    fsp: int | None = None  # DATETIME_PRECISION

    @property
    def unsigned(self) -> bool:
        return " unsigned" in self.column_type.lower()

    @property
    def members(self) -> list[str]:
        """The values of an ENUM or SET, in definition order."""
        inside = self.column_type[self.column_type.index("(") + 1 : self.column_type.rindex(")")]
        return [m.replace("''", "'").replace("\\\\", "\\") for m in re.findall(r"'((?:[^']|'')*)'", inside)]

    @property
    def declared_decimals(self) -> int | None:
        """D of FLOAT(M,D) / DOUBLE(M,D): MariaDB then prints the value with D decimals."""
        found = re.search(r"\(\s*\d+\s*,\s*(\d+)\s*\)", self.column_type)
        return int(found.group(1)) if found else None


def describe(column: SourceColumn) -> dict[str, object]:
    """Attributes to set on the library's column description so it decodes this column as the
    server stores it: the name, signedness, the character set of text (binary strings as bytes)
    and the members of an ENUM or SET."""
    attrs: dict[str, object] = {"name": column.name, "unsigned": column.unsigned}
    if column.data_type in ("enum", "set"):
        members = column.members
        if column.data_type == "enum":
            attrs["enum_values"] = ["", *members]  # index 0 is the empty "invalid" value
        else:
            attrs["set_values"] = members
    if column.charset is not None and column.data_type in _TEXT:
        attrs["character_set_name"] = _CODECS.get(column.charset, column.charset)
    else:
        attrs["character_set_name"] = _BINARY_CHARSET
    return attrs


def structure_change(column: SourceColumn, binlog: Any) -> str | None:
    """How the binlog's description of a column (a library Column) differs from the column the
    follower was started with; None when it matches. Unknown DATA_TYPEs are not compared."""
    code = int(binlog.type)
    expected = _BINLOG_TYPES.get(column.data_type)
    if expected is not None and code not in expected:
        return f"column {column.name} is no longer {column.column_type} (binlog type {code})"
    if code == 246 and (binlog.precision, binlog.decimals) != (column.precision, column.scale):
        return (
            f"column {column.name} changed from {column.column_type} to "
            f"decimal({binlog.precision},{binlog.decimals})"
        )
    if code in _TEMPORAL_FSP and column.fsp is not None and binlog.fsp != column.fsp:
        return f"column {column.name} changed from {column.column_type} to fractional precision {binlog.fsp}"
    if code == 16 and column.precision is not None and binlog.bits != column.precision:
        return f"column {column.name} changed from {column.column_type} to bit({binlog.bits})"
    sized = code in _STRING_TYPES and column.data_type in _TEXT | _BINARY_STRINGS
    if sized and column.octet_length is not None and binlog.max_length != column.octet_length:
        return f"column {column.name} changed from {column.column_type} ({binlog.max_length} bytes long now)"
    return None


def _zero_text(column: SourceColumn) -> str:
    if column.data_type == "date":
        return "0000-00-00"
    fraction = "." + "0" * column.fsp if column.fsp else ""
    return "0000-00-00 00:00:00" + fraction


def none_value(column: SourceColumn, none_source: str | None) -> object:
    """The copy's value where the library returned None: NULL, a zero date or an empty SET."""
    if none_source in _ZERO_DATE_SOURCES:
        return _zero_text(column)
    if none_source == _EMPTY_SET_SOURCE:
        return ""
    return None


def _as_bytes(value: object) -> bytes:
    if isinstance(value, str):  # the library returns '' for an empty binary string
        return value.encode("latin-1")
    assert isinstance(value, bytes | bytearray)
    return bytes(value)


def _padded(width: int) -> Convert:
    def convert(value: object) -> object:
        return _as_bytes(value).ljust(width, b"\0")

    return convert


def _uuid(value: object) -> object:
    return str(uuid.UUID(bytes=_as_bytes(value).ljust(16, b"\0")))


def _inet6(value: object) -> object:
    return socket.inet_ntop(socket.AF_INET6, _as_bytes(value).ljust(16, b"\0"))


def _inet4(value: object) -> object:
    return socket.inet_ntoa(_as_bytes(value).ljust(4, b"\0"))


def _bits(value: str) -> object:
    return int(value, 2).to_bytes((len(value) + 7) // 8, "big")


def _set_text(members: list[str]) -> Convert:
    def convert(value: Any) -> object:
        return ",".join(m for m in members if m in value)

    return convert


def _year(value: int) -> object:
    return 0 if value == 1900 else value


def _fixed_decimals(decimals: int) -> Convert:
    def convert(value: float) -> object:
        return float(f"{value:.{decimals}f}")

    return convert


def _mariadb_float(value: float) -> object:
    return float(f"{value:.6g}")


def _shortest_float32(value: float) -> object:
    # MySQL 8 prints a FLOAT as the shortest text that reads back as the same float32.
    for digits in range(6, 10):
        text = f"{value:.{digits}g}"
        if struct.unpack("<f", struct.pack("<f", float(text)))[0] == value:
            return float(text)
    return value


def _timestamp(zero: str) -> Convert:
    def convert(value: datetime) -> object:
        return zero if value == _EPOCH else value

    return convert


def _negative_time(value: timedelta) -> object:
    if value >= timedelta(0):
        return value
    micros = -(value // timedelta(microseconds=1))
    seconds, fraction = divmod(micros, _MICROS)
    if not fraction:
        return value
    return -timedelta(seconds=seconds, microseconds=_MICROS - fraction)


def _json_plain(value: Any) -> Any:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, dict):
        return {_json_plain(k): _json_plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_plain(v) for v in value]
    return value


def _mysql_json(value: Any) -> object:
    return json.dumps(_json_plain(value), ensure_ascii=False)


def converter(column: SourceColumn, binlog_type: int, mariadb: bool) -> Convert | None:
    """The conversion of one column's non-None library value into PyMySQL's; None: equal as is."""
    kind = column.data_type
    if kind in _BINARY_STRINGS or kind in _GEOMETRY:
        if kind == "binary" and column.octet_length:
            return _padded(column.octet_length)
        return _as_bytes
    if kind == "uuid":
        return _uuid
    if kind == "inet6":
        return _inet6
    if kind == "inet4":
        return _inet4
    if kind == "bit":
        return _bits
    if kind == "set":
        return _set_text(column.members)
    if kind == "year":
        return _year
    if kind in ("float", "double", "real"):
        decimals = column.declared_decimals
        if decimals is not None:
            return _fixed_decimals(decimals)
        if kind != "float":
            return None
        return _mariadb_float if mariadb else _shortest_float32
    if kind == "timestamp":
        return _timestamp(_zero_text(column))
    if kind == "time" and column.fsp:
        return _negative_time
    if kind == "json" and binlog_type == _MYSQL_JSON:
        return _mysql_json
    return None
