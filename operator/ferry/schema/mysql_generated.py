"""MySQL/MariaDB generated columns (STORED and VIRTUAL) on PostgreSQL.

A generated column whose expression translates exactly (ferry.schema.mysql_sql) becomes
`GENERATED ALWAYS AS (…) STORED`: PostgreSQL computes it, so the copy must not write it, and
its TableMapping lists it under `generated`, apart from the copied `columns`. PostgreSQL has
no virtual generated columns before 18; a stored one gives the same values to readers.
Otherwise the column is a plain one whose values are copied, and the plan names it.

Not translated either: a generated column of the primary key (the copy reads keys by it), one
given a transform (the user asked for its values to be changed), and one reading another
generated column (PostgreSQL forbids that).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from ferry.schema.model import Column, Table
from ferry.schema.mysql_sql import Translation, translate_expression

# Target types a translated expression is assigned to as MySQL would store it (boolean by
# the copy's own rule, any non-zero value is true); others (enum types, json, dates) are copied.
_ASSIGNABLE = re.compile(
    r"^(?:smallint|integer|bigint|real|double precision|numeric(?:\(\d+,\d+\))?|boolean|text|citext"
    r"|(?:var)?char\(\d+\))$"
)
_TEXT = re.compile(r"^(?:var)?char\(\d+\)$|^(?:tiny|medium|long)?text$|^enum\(|^set\(")

PLAIN_NOTE = "generated column created as a plain column and its values copied"


def translate(
    table: Table, column: Column, rename: Mapping[str, str], transformed: bool, target_type: str
) -> Translation:
    """The PostgreSQL expression of `column`, or why it is copied as plain values.
    `rename`: the table's selected source columns -> target names."""
    assert column.generated is not None
    if transformed:
        return Translation(None, "it has a transform")
    if column.name in table.primary_key:
        return Translation(None, "it is part of the primary key")
    plain = {
        name: target
        for name, target in rename.items()
        if (c := table.column(name)) is not None and c.generated is None
    }
    textual = {c.name for c in table.columns if _TEXT.match(c.type)}
    if not _ASSIGNABLE.match(target_type):
        return Translation(None, f"its target type {target_type} takes no computed value as MySQL stores it")
    translated = translate_expression(column.generated, plain, textual)
    if translated.sql is not None and target_type == "boolean":
        # TINYINT(1): MySQL stores the number; PostgreSQL has no integer-to-boolean assignment.
        return Translation(f"(CAST(({translated.sql}) AS integer) <> 0)")
    return translated
