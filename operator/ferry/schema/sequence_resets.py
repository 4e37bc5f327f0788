"""Which counters a migration sets once the rows are in, and to what: pure, no database.

Copying rows with their ids leaves every identity, serial and AUTO_INCREMENT counter of the
target at its start, so the application's first INSERT collides with a copied row. pgcopydb
and pgloader reset sequences after the copy; Ferry does too, in the completion step:

- `sequence_resets` lists the counters to set (one `SequenceReset` per target identity or
  AUTO_INCREMENT column, and per PostgreSQL sequence that stays a sequence), from the source
  schema and the mappings. The plan shows them as `set_sequence` operations; the completion
  step (ferry.services.sequence_reset) derives the same list and applies it.
- `next_position` decides the value from the source's counter at that moment, the largest
  copied value (the floor: a counter never hands out a copied id) and the target's own
  counter (never moved backwards, so a second run changes nothing).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ferry.schema.desired import build_desired
from ferry.schema.mapping import TableMapping
from ferry.schema.model import DatabaseSchema, Sequence
from ferry.schema.operations import Operation, OpKind, OpPhase, Risk
from ferry.schema.sequences import nextval_sequence, owned_sequence


@dataclass(frozen=True)
class SequenceReset:
    """One counter on the target to set after the load, and where its value comes from.

    Target: an identity or AUTO_INCREMENT column (`column`), or a sequence (`sequence`).
    Source: a PostgreSQL sequence (`source_sequence`), else the table's own counter
    (MySQL/MariaDB AUTO_INCREMENT, SQLite `sqlite_sequence`); with none, only the floor counts.
    """

    schema: str | None  # target schema
    table: str | None  # target table (None for a sequence)
    column: str | None  # target column (None for a sequence)
    sequence: str | None  # target sequence (a sequence that stays one)
    floor: tuple[tuple[str, str], ...]  # (target table, column): copied values the counter stays above
    source_schema: str | None
    source_table: str | None
    source_sequence: str | None
    options: Sequence | None = None  # increment, bounds and cycle to keep (PostgreSQL to PostgreSQL)

    @property
    def increment(self) -> int:
        return self.options.increment if self.options else 1

    @property
    def cycle(self) -> bool:
        return self.options.cycle if self.options else False

    @property
    def label(self) -> str:
        return self.sequence or f"{self.table}.{self.column}"


def sequence_resets(
    source: DatabaseSchema,
    mappings: list[TableMapping],
    target_dialect: str,
    default_schema: str | None = None,
) -> list[SequenceReset]:
    """The counters to set, in a stable order. None on SQLite targets: Ferry creates their
    autoincrement columns as rowid aliases, which continue from max(rowid) by themselves.
    `default_schema` as for `build_desired` (the target's schema when a mapping names none)."""
    if target_dialect == "sqlite":
        return []
    desired = build_desired(source, mappings, target_dialect, default_schema)
    mappings = [replace(m, target_schema=m.target_schema or default_schema) for m in mappings]
    same = source.dialect == target_dialect
    kept = desired.sequences
    floors: dict[str, list[tuple[str, str]]] = {name: [] for name in kept}
    out: list[SequenceReset] = []
    for m in mappings:
        table = source.tables[m.source_table]
        target = desired.tables[m.target_table]
        for cm in m.columns:
            src, dst = table.column(cm.source), target.column(cm.target)
            if src is None or dst is None:
                continue
            seq_name = owned_sequence(source, table.name, src) if source.dialect == "postgresql" else None
            if seq_name in kept and nextval_sequence(dst.default) == seq_name:
                floors[seq_name].append((m.target_table, cm.target))
            elif dst.autoincrement:
                options = source.sequence_defs.get(seq_name) if same and seq_name else None
                out.append(
                    SequenceReset(
                        schema=m.target_schema,
                        table=m.target_table,
                        column=cm.target,
                        sequence=None,
                        floor=((m.target_table, cm.target),),
                        source_schema=m.source_schema,
                        source_table=m.source_table,
                        source_sequence=seq_name,
                        options=options,
                    )
                )
    schema = next((m.target_schema for m in mappings), None)
    for name, seq in sorted(kept.items()):
        out.append(
            SequenceReset(
                schema=schema,
                table=None,
                column=None,
                sequence=name,
                floor=tuple(floors[name]),
                source_schema=source.schema,
                source_table=None,
                source_sequence=name,
                options=seq,
            )
        )
    return out


def _source_of(reset: SequenceReset, source_dialect: str) -> str:
    if reset.source_sequence:
        return f"the source's sequence {reset.source_sequence}"
    return {
        "mysql": "the source table's AUTO_INCREMENT",
        "sqlite": "the source table's sqlite_sequence",
    }.get(source_dialect, "the copied rows")


def set_sequence_operations(resets: list[SequenceReset], source_dialect: str) -> list[Operation]:
    """One `set_sequence` per counter. The value is not in the operation: it changes with every
    insert on the source, and the plan hash (and an approval) must not."""
    ops = []
    for r in resets:
        floor = ", ".join(f"max({t}.{c})" for t, c in r.floor)
        what = f"sequence {r.sequence}" if r.sequence else f"counter of {r.column}"
        detail = f"{what} from {_source_of(r, source_dialect)}" + (f", above {floor}" if floor else "")
        ops.append(
            Operation(
                OpKind.SET_SEQUENCE,
                r.schema,
                r.table or r.label,
                Risk.SAFE,
                "after the load the next generated id follows the copied ones (never moved backwards)",
                detail,
                phase=OpPhase.DATA,
            )
        )
    return ops


@dataclass(frozen=True)
class Position:
    """A sequence's state as PostgreSQL's setval() takes it: with `is_called` the next value is
    `value + increment`, without it `value` itself."""

    value: int
    is_called: bool

    def next(self, increment: int) -> int:
        return self.value + increment if self.is_called else self.value


def next_position(
    source: Position | None,
    floor: int | None,
    current: Position | None,
    increment: int = 1,
    cycle: bool = False,
) -> Position | None:
    """The position to set, or None when the target's counter is already there or beyond.

    `floor` is the largest copied value (the smallest, for a descending sequence). A cycling
    sequence may have wrapped past its copied values, so there the source's state wins over it.
    """
    candidates = [p for p in (source, current) if p is not None]
    if floor is not None and not (cycle and source is not None):
        candidates.append(Position(floor, True))
    if not candidates:
        return None
    pick = max if increment > 0 else min
    best = pick(candidates, key=lambda p: p.next(increment))
    if current is not None and best.next(increment) == current.next(increment):
        return None
    return best
