"""A batch of rendered changes, compacted per table and key into what the applier writes set-wise.

Applying the changes of a key one after the other in source order ends in the state of the last
one, so within a batch the last change of a key decides it: an insert or full update becomes
an UPSERT of its row, a delete a DELETE, an update that sent only some columns (PostgreSQL
leaves out an unchanged TOASTed value) a PARTIAL of those columns, merged into an earlier
UPSERT or PARTIAL of the key in the batch. A key update of a full row is a DELETE of the old
key and an UPSERT of the new one (whether the old row, the new one, both or neither are on the
target, that is where the changes one by one would end).

Two things cannot be folded in and end a compacted step, so that what came before is applied
first: a key update whose row is partial and has no full image earlier in the batch (a MOVE,
applied on its own: ferry.cdc.apply_pg), and a TRUNCATE, which also makes every earlier change
of the table moot.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum

from ferry.cdc.change_rows import Cell, Key, TargetChange
from ferry.cdc.changes import UNCHANGED, ChangeKind


class Op(Enum):
    UPSERT = "upsert"
    DELETE = "delete"
    PARTIAL = "partial"


@dataclass(slots=True)  # one per key of a batch: a plain slotted init is the cheapest
class Entry:
    op: Op
    row: tuple[Cell, ...] = ()  # UPSERT: every column; PARTIAL: UNCHANGED where not sent


@dataclass
class Compacted:
    """The net effect of consecutive changes of one table, by key (keys in first-seen order)."""

    entries: dict[Key, Entry] = field(default_factory=dict)


@dataclass(frozen=True)
class Move:
    """A key update of a partial row: applied alone (the target decides how, see apply_pg)."""

    old_key: Key
    row: tuple[Cell, ...]


@dataclass(frozen=True)
class Truncate:
    pass


Step = Compacted | Move | Truncate


def _merge(earlier: tuple[Cell, ...], later: tuple[Cell, ...]) -> tuple[Cell, ...]:
    return tuple(e if v is UNCHANGED else v for e, v in zip(earlier, later, strict=True))


def _current(steps: list[Step]) -> Compacted:
    if not steps or not isinstance(steps[-1], Compacted):
        steps.append(Compacted())
    last = steps[-1]
    assert isinstance(last, Compacted)
    return last


def _fold(steps: list[Step], change: TargetChange) -> None:
    if change.kind == ChangeKind.TRUNCATE:
        steps[:] = [Truncate()]
        return
    row = change.row
    if change.old_key is not None and not change.full:
        last = steps[-1] if steps else None
        earlier = last.entries.get(change.old_key) if isinstance(last, Compacted) else None
        if earlier is None or earlier.op != Op.UPSERT:
            assert row is not None
            steps.append(Move(change.old_key, row))
            return
    last = steps[-1] if steps else None
    entries = last.entries if last.__class__ is Compacted else _current(steps).entries
    if change.kind == ChangeKind.DELETE:
        entries[change.key] = Entry(Op.DELETE)
        return
    assert row is not None
    if change.old_key is not None:
        earlier = entries.get(change.old_key)
        if earlier is not None and not change.full:  # a full image of the old key came before
            row = _merge(earlier.row, row)
        entries[change.old_key] = Entry(Op.DELETE)
        entries[change.key] = Entry(Op.UPSERT, row)
        return
    earlier = entries.get(change.key)
    if change.full or earlier is None:
        entries[change.key] = Entry(Op.UPSERT if change.full else Op.PARTIAL, row)
    elif earlier.op == Op.DELETE:
        pass  # an update after a delete of the key finds no row: the delete stands
    else:  # merged into the earlier UPSERT (stays complete) or PARTIAL
        entries[change.key] = Entry(earlier.op, _merge(earlier.row, row))


def compact(
    changes: Iterable[TargetChange], into: dict[int, list[Step]] | None = None
) -> dict[int, list[Step]]:
    """The steps of each table (by index), in the order they must be applied; `into`: the steps of
    the changes before these (a batch compacted piece by piece), extended in place."""
    steps: dict[int, list[Step]] = {} if into is None else into
    for change in changes:
        _fold(steps.setdefault(change.table, []), change)
    return steps
