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
from operator import itemgetter
from typing import TypeAlias

from ferry.cdc.changes import UNCHANGED, ChangeKind, RowChange, SourceSchemaChanged, Value, _Unchanged
from ferry.copy.projection import Projection, base_type
from ferry.copy.render import text_value
from ferry.copy.sql import Dialect

Cell: TypeAlias = str | _Unchanged | None  # a rendered value: input text, NULL, or not sent
Key: TypeAlias = tuple[str | None, ...]  # the rendered values of the key columns


@dataclass(slots=True)
class TargetChange:
    """One change of one followed table (`table`: its index), rendered for the target.

    `row`: every mapped column in mapping order (insert, update); `key`: the row's key after the
    change (of the deleted row for a delete); `old_key`: an update's key before it, only when
    the update changed it. Not frozen: made for every change, and a slotted plain init is cheaper
    (nothing changes one after it is made)."""

    table: int
    kind: ChangeKind
    key: Key = ()
    row: tuple[Cell, ...] | None = None
    old_key: Key | None = None
    full: bool = False  # `row` holds every column (no UNCHANGED)


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
        self.raw_bytea = tuple(
            i
            for i, c in enumerate(mapping.columns)
            if source_dialect == "postgresql"
            and c.transform is not None
            and base_type(c.source_type) == "bytea"
        )
        # Most tables are copied as they are: no fix, no transform, and from PostgreSQL no rendering
        # (the contract hands PostgreSQL's values over as text: what the copy's `col::text` reads).
        self.plain = not projection.fixes and not projection.transformed
        self.text_source = source_dialect == "postgresql"
        self._get = itemgetter(*self.sources)
        self._single_key = self.key[0] if len(self.key) == 1 else None
        self._single = len(self.sources) == 1

    def render(self, values: Mapping[str, Value], complete: bool) -> tuple[Cell, ...]:
        """The mapped columns in order. `complete`: every column must be there (a row image);
        else a missing column counts as not sent (an old row that holds only the key)."""
        if complete:
            try:
                got = self._get(values)
            except KeyError as exc:
                raise SourceSchemaChanged(self.name, f"column {exc.args[0]} is not in the change") from None
            if self.plain and self.text_source and not self.raw_bytea:
                return (got,) if self._single else got
            raw = [got] if self._single else list(got)
        else:
            raw = [values.get(name, UNCHANGED) for name in self.sources]
        for i in self.raw_bytea:
            raw[i] = _bytes_from_text(raw[i])
        if not self.plain:
            unsent = [i for i, v in enumerate(raw) if v is UNCHANGED]
            # The copy's own projection, whole-row as the copy calls it; a value not sent goes in as
            # NULL (every fix and transform passes NULL through or replaces it) and is put back.
            raw = self.projection.apply([None if v is UNCHANGED else v for v in raw])
            for i in unsent:
                raw[i] = UNCHANGED
        if self.text_source:
            return tuple(v if v is None or v.__class__ is str or v is UNCHANGED else _render(v) for v in raw)
        return tuple(_render(v) for v in raw)

    def key_from(self, values: Mapping[str, Value]) -> Key | None:
        """The key of a row image that may hold only the key (an old row), or None without it."""
        if self.plain:  # no need to render the other columns
            key = tuple([values.get(self.sources[i], UNCHANGED) for i in self.key])
            if not self.text_source:
                key = tuple([_render(v) for v in key])
        else:
            row = self.render(values, complete=False)
            key = tuple([row[i] for i in self.key])
        return None if UNCHANGED in key else key  # type: ignore[return-value]

    def key_of(self, row: Sequence[Cell]) -> Key | None:
        """The row's key, or None when a key column was not sent."""
        if self._single_key is not None:
            value = row[self._single_key]
            return None if value is UNCHANGED else (value,)
        key = tuple([row[i] for i in self.key])
        return None if UNCHANGED in key else key  # type: ignore[return-value]

    def change(self, change: RowChange) -> TargetChange:
        kind = change.kind
        if kind == ChangeKind.TRUNCATE:
            return TargetChange(self.index, kind)
        old_key = None if change.old is None else self.key_from(change.old)
        if kind == ChangeKind.DELETE:
            if old_key is None:
                raise SourceSchemaChanged(self.name, "a delete without the key of the deleted row")
            return TargetChange(self.index, kind, old_key)
        if change.new is None:
            raise SourceSchemaChanged(self.name, f"an {kind} without the new row")
        row = self.render(change.new, complete=True)
        key = self.key_of(row)
        if key is None and old_key is not None:  # a key column not sent: it did not change
            by_position = dict(zip(self.key, old_key, strict=True))
            row = tuple(by_position.get(i, v) for i, v in enumerate(row))
            key = old_key
        if key is None:
            raise SourceSchemaChanged(self.name, f"an {kind} without its key")
        moved = old_key if old_key is not None and old_key != key else None
        return TargetChange(self.index, kind, key, row, moved, UNCHANGED not in row)
