"""A source row change as the target receives it: the copy's projection, then PostgreSQL text.

Each followed table gets the projection the copy built for it (`ferry.copy.projection.
build_projection`: value fixes, transforms, column selection and renames), so a changed row
reaches the target exactly as the copy would have written it. Values are then rendered as
PostgreSQL input text (`ferry.copy.render.text_value`, NULs dropped as the copy's COPY text
drops them) and cast to the column type by the applier's SQL (ferry.cdc.apply_sql).

A value a change did not send (UNCHANGED) stays UNCHANGED: it bypasses fixes and transforms
and the applier leaves the target's value alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypeAlias

from ferry.cdc.changes import UNCHANGED, ChangeKind, RowChange, SourceSchemaChanged, Value, _Unchanged
from ferry.copy.projection import Projection, base_type
from ferry.copy.render import text_value
from ferry.copy.sql import Dialect

Cell: TypeAlias = str | _Unchanged | None  # a rendered value: input text, NULL, or not sent
Key: TypeAlias = tuple[str | None, ...]  # the rendered values of the key columns


@dataclass(frozen=True)
class TargetChange:
    """One change of one followed table (`table`: its index), rendered for the target.

    `row`: every mapped column in mapping order (insert, update); `key`: the row's key after the
    change (of the deleted row for a delete); `old_key`: an update's key before it, only when
    the update changed it."""

    table: int
    kind: ChangeKind
    key: Key = ()
    row: tuple[Cell, ...] | None = None
    old_key: Key | None = None

    @property
    def full(self) -> bool:
        return self.row is not None and UNCHANGED not in self.row


def _render(value: object) -> Cell:
    if value is None or value is UNCHANGED:
        return value
    return text_value(value).replace("\x00", "")


def _bytes_from_text(value: object) -> object:
    # PostgreSQL sends bytea in its text form; the copy read these columns as bytes.
    if isinstance(value, str) and value.startswith("\\x"):
        return bytes.fromhex(value[2:])
    return value


class TableRows:
    """Renders one followed table's changes; built from the projection the copy uses."""

    def __init__(self, index: int, projection: Projection, source_dialect: Dialect) -> None:
        self.index = index
        self.projection = projection
        mapping = projection.mapping
        self.name = mapping.qualified_source
        self.sources = tuple(c.source for c in mapping.columns)
        position = {name: i for i, name in enumerate(self.sources)}
        missing = [k for k in mapping.key if k not in position]
        if not mapping.key or missing:
            raise ValueError(
                f"table {self.name} has no key among its copied columns: online mode cannot follow it"
            )
        self.key = tuple(position[k] for k in mapping.key)
        # A transform of a PostgreSQL bytea column saw bytes in the copy (the copy reads bytea as
        # is); a change carries the text form, so it is turned back into bytes first.
        self.raw_bytea = frozenset(
            i
            for i, c in enumerate(mapping.columns)
            if source_dialect == "postgresql"
            and c.transform is not None
            and base_type(c.source_type) == "bytea"
        )

    def render(self, values: Mapping[str, Value], complete: bool) -> tuple[Cell, ...]:
        """The mapped columns in order. `complete`: every column must be there (a row image);
        else a missing column counts as not sent (an old row that holds only the key)."""
        raw: list[object] = []
        for i, name in enumerate(self.sources):
            if name in values:
                value = values[name]
                raw.append(_bytes_from_text(value) if i in self.raw_bytea else value)
            elif complete:
                raise SourceSchemaChanged(self.name, f"column {name} is not in the change")
            else:
                raw.append(UNCHANGED)
        unsent = [i for i, v in enumerate(raw) if v is UNCHANGED]
        # The copy's own projection, whole-row as the copy calls it; a value not sent goes in as
        # NULL (every fix and transform passes NULL through or replaces it) and is put back.
        projected = self.projection.apply([None if v is UNCHANGED else v for v in raw])
        for i in unsent:
            projected[i] = UNCHANGED
        return tuple(_render(v) for v in projected)

    def key_of(self, row: Sequence[Cell]) -> Key | None:
        """The row's key, or None when a key column was not sent."""
        key = tuple(row[i] for i in self.key)
        if any(v is UNCHANGED for v in key):
            return None
        return key  # type: ignore[return-value]

    def change(self, change: RowChange) -> TargetChange:
        if change.kind == ChangeKind.TRUNCATE:
            return TargetChange(self.index, change.kind)
        old = None if change.old is None else self.render(change.old, complete=False)
        old_key = None if old is None else self.key_of(old)
        if change.kind == ChangeKind.DELETE:
            if old_key is None:
                raise SourceSchemaChanged(self.name, "a delete without the key of the deleted row")
            return TargetChange(self.index, change.kind, key=old_key)
        if change.new is None:
            raise SourceSchemaChanged(self.name, f"an {change.kind} without the new row")
        row = self.render(change.new, complete=True)
        key = self.key_of(row)
        if key is None and old_key is not None:  # a key column not sent: it did not change
            row = tuple(o if i in self.key else v for i, (v, o) in enumerate(zip(row, old, strict=True)))  # type: ignore[arg-type]
            key = old_key
        if key is None:
            raise SourceSchemaChanged(self.name, f"an {change.kind} without its key")
        moved = old_key if old_key is not None and old_key != key else None
        return TargetChange(self.index, change.kind, key=key, row=row, old_key=moved)
