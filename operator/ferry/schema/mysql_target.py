"""What a MySQL/MariaDB target needs of a column from another engine beyond its type rule.

MySQL cannot index a TEXT or BLOB column without a prefix length ("BLOB/TEXT column used in
key specification without a key length"), and a foreign key needs the type of the key it
refers to. A text column (SQLite TEXT, PostgreSQL text) that a primary key, a unique
constraint, a foreign key or an index covers is created as varchar(255) instead of longtext:
255 characters of utf8mb4 are 1,020 bytes, so up to three such columns fit InnoDB's 3,072-byte
key. A longer value fails its batch (MySQL's strict mode refuses it, naming the column);
`castTo varchar(n)` chooses another width.

A unique index is a unique key on MySQL, and discovery reads it back as a unique constraint:
one from another engine is planned as that constraint (its name kept), so a re-plan converges.
"""

from __future__ import annotations

from ferry.schema.model import Column, Index, Table, UniqueConstraint

KEY_TEXT_TYPE = "varchar(255)"
KEY_TEXT_NOTE = (
    "text in a key or an index: created as varchar(255), as MySQL indexes need a length (a longer "
    "value fails the copy; castTo varchar(n) chooses another width)"
)
_UNBOUNDED_TEXT = frozenset(("text", "tinytext", "mediumtext", "longtext"))


def applies(source_dialect: str, target_dialect: str) -> bool:
    return target_dialect == "mysql" and source_dialect != "mysql"


def _indexed(table: Table) -> set[str]:
    out = set(table.primary_key)
    for fk in table.foreign_keys:
        out |= set(fk.columns)
    for unique in table.unique_constraints:
        out |= set(unique.columns)
    for ix in table.indexes:
        if not ix.expressions:
            out |= set(ix.columns)
    return out


def target_type(table: Table, column: Column, mapped: str) -> str:
    """The MySQL type of a column whose type rule gave `mapped`."""
    if mapped in _UNBOUNDED_TEXT and column.name in _indexed(table):
        return KEY_TEXT_TYPE
    return mapped


def keyed_text(mapped: str, target: str) -> bool:
    """Whether target_type changed a text column for its key (the plan notes it)."""
    return mapped in _UNBOUNDED_TEXT and target == KEY_TEXT_TYPE


def unique_keys(
    uniques: tuple[UniqueConstraint, ...], indexes: tuple[Index, ...]
) -> tuple[tuple[UniqueConstraint, ...], tuple[Index, ...]]:
    """(unique constraints, indexes) with each plain unique index made a unique constraint."""
    keys = list(uniques)
    kept = []
    for ix in indexes:
        plain = ix.unique and not ix.expressions and ix.where is None and not any(ix.lengths)
        if not plain:
            kept.append(ix)
        elif all(u.columns != ix.columns for u in keys):
            keys.append(UniqueConstraint(ix.name, ix.columns))
    return tuple(keys), tuple(kept)
