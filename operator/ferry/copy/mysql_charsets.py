"""The character set of each column of a MySQL/MariaDB source table.

Text in a character set other than UTF-8 must be converted to utf8mb4 on the server before it is
written as a CSV line (the copy, ferry.copy.mysql_copy_csv) or hashed against PostgreSQL's UTF-8
(validation, ferry.copy.validate_pushdown_mysql). For a column already in UTF-8 (or ASCII) the
conversion changes nothing but still costs the server a copy of every value: on 1M rows of the
benchmark's orders table (three text columns), about a sixth of MariaDB's digest time. So both
read the columns' character sets first and convert only the others (and a column whose set is
unknown).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ferry.schema.mapping import TableMapping

UTF8_CHARSETS = frozenset(("utf8mb4", "utf8mb3", "utf8", "ascii"))


_IN_CURRENT = (
    "SELECT COLUMN_NAME, CHARACTER_SET_NAME FROM information_schema.COLUMNS "
    "WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = %s"
)
_IN_SCHEMA = (
    "SELECT COLUMN_NAME, CHARACTER_SET_NAME FROM information_schema.COLUMNS "
    "WHERE TABLE_SCHEMA = %s AND TABLE_NAME = %s"
)


def charsets_query(mapping: TableMapping) -> tuple[str, list[object]]:
    """The query (for a driver that formats `%s`) and its parameters."""
    if mapping.source_schema is None:
        return _IN_CURRENT, [mapping.source_table]
    return _IN_SCHEMA, [mapping.source_schema, mapping.source_table]


def charsets_from(rows: Iterable[tuple[Any, ...]]) -> dict[str, str | None]:
    """Column name → character set (None for columns that hold no text)."""
    return {str(name): (str(charset) if charset is not None else None) for name, charset in rows}


def is_utf8(charset: str | None) -> bool:
    """Whether the column's bytes are already UTF-8 (None: not known, so not)."""
    return charset is not None and charset.lower() in UTF8_CHARSETS
