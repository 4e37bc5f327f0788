"""Compare one desired target table with the table the target has, into typed operations.

Each comparator handles one kind of object (columns, primary key, uniques, checks, indexes,
foreign keys) and decides the risk class with its reason when it makes the operation.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace

from ferry.schema.model import Column, ForeignKey, Index, Table
from ferry.schema.operations import ConstraintType, Operation, OpKind, OpPhase, Risk
from ferry.schema.pg_column_diff import column_option_ops
from ferry.schema.typerisk import classify


def normalize_default(expression: str | None) -> str | None:
    """`'abc'::character varying` and `'abc'` are the same default; so are `('-1'::integer)` and `-1`."""
    if expression is None:
        return None
    out = expression.strip()
    previous = None
    while previous != out:
        previous = out
        out = re.sub(r"::[\w\s\".]+(?:\(\d+(?:,\d+)?\))?(?:\[\])?$", "", out).strip()
        if out.startswith("(") and out.endswith(")") and out.count("(") == 1:
            out = out[1:-1].strip()
    if re.fullmatch(r"'-?\d+(\.\d+)?'", out):
        out = out[1:-1]
    return out.lower() if "'" not in out else out


def _phase(defer: bool) -> OpPhase:
    """Deferred keys, indexes and foreign keys are built once the rows are in."""
    return OpPhase.POST_DATA if defer else OpPhase.PRE_DATA


def create_table_ops(desired: Table, *, defer: bool, defer_key: bool = False) -> Iterator[Operation]:
    """CREATE TABLE, then its indexes and foreign keys (after the data load when `defer`).

    With `defer_key` the primary key too is built after the load, as pg_restore and pgcopydb
    do: filling an unindexed table and indexing it once is faster than maintaining the index
    row by row. Only for targets where a key can be added later without changing the columns.
    """
    rows = desired.row_estimate
    key = desired.primary_key if defer_key else ()
    created = replace(desired, primary_key=()) if key else desired
    detail = f"{len(desired.columns)} columns"
    if desired.primary_key:
        detail += f", primary key ({', '.join(desired.primary_key)})" + (
            " after the data load" if key else ""
        )
    yield Operation(
        OpKind.CREATE_TABLE, desired.schema, desired.name, Risk.SAFE, "new table", detail,
        affected_rows=rows, table_def=created,
    )  # fmt: skip
    if key:
        yield Operation(
            OpKind.ADD_PRIMARY_KEY, desired.schema, desired.name, Risk.SAFE, "built once the rows are in",
            f"primary key ({', '.join(key)})", affected_rows=rows, phase=OpPhase.POST_DATA, primary_key=key,
        )  # fmt: skip
    yield from _index_ops(desired, defer, rows)
    yield from _fk_ops(desired, defer)


def _index_ops(desired: Table, defer: bool, rows: int, existing: Table | None = None) -> Iterator[Operation]:
    have = _index_keys(existing.indexes, desired.indexes) if existing else set()
    for ix in desired.indexes:
        if _index_key(ix) not in have:
            unique = "unique " if ix.unique else ""
            yield Operation(
                OpKind.CREATE_INDEX,
                desired.schema,
                desired.name,
                Risk.SAFE,
                "new index",
                f"{unique}index {ix.name} ({', '.join(ix.columns)})",
                affected_rows=rows,
                phase=_phase(defer),
                index=ix,
            )


def _index_keys(have: tuple[Index, ...], want: tuple[Index, ...]) -> set[tuple[object, ...]]:
    """Keys of the existing indexes; both forms when the desired side has no definitions (a
    source other than PostgreSQL), so a PostgreSQL target's definitions do not hide a match."""
    return {_index_key(ix) for ix in have} | {_index_key(replace(ix, definition=None)) for ix in have}


def _fk_ops(desired: Table, defer: bool, existing: Table | None = None) -> Iterator[Operation]:
    have = {_fk_key(fk) for fk in existing.foreign_keys} if existing else set()
    for fk in desired.foreign_keys:
        if _fk_key(fk) not in have:
            yield Operation(
                OpKind.ADD_FOREIGN_KEY,
                desired.schema,
                desired.name,
                Risk.SAFE,
                "new foreign key; fails if existing rows have no match",
                f"({', '.join(fk.columns)}) references {_referred(fk)} ({', '.join(fk.referred_columns)})",
                phase=_phase(defer),
                foreign_key=fk,
            )


def _referred(fk: ForeignKey) -> str:
    """The referred table, with its schema when it is another one (source.schemas)."""
    return f"{fk.referred_schema}.{fk.referred_table}" if fk.referred_schema else fk.referred_table


def _index_key(ix: Index) -> tuple[object, ...]:
    # The full definition (PostgreSQL to PostgreSQL) decides; without one, the parts we know.
    return (
        (ix.definition, ix.unique) if ix.definition else (ix.columns, ix.unique, ix.method or None, ix.where)
    )


def _fk_key(fk: ForeignKey) -> tuple[object, ...]:
    return (
        fk.columns, fk.referred_table, fk.referred_columns, fk.on_delete, fk.on_update,
        fk.deferrable, fk.initially_deferred,
    )  # fmt: skip


def diff_table(desired: Table, actual: Table, *, defer: bool, pg_to_pg: bool = False) -> list[Operation]:
    """Operations that turn `actual` into `desired`, one comparator per kind of object. Extra
    target objects are dropped: in diff mode the selected tables are made to match the source.
    `pg_to_pg`: also columns' domains, collations and identity options (ferry.schema.pg_column_diff)."""
    ops = list(_column_ops(desired, actual))
    if pg_to_pg:
        ops += column_option_ops(desired, actual)
    ops += _primary_key_ops(desired, actual)
    ops += _unique_ops(desired, actual)
    ops += _check_ops(desired, actual)
    ops += _index_ops(desired, defer, actual.row_estimate, existing=actual)
    ops += _index_drops(desired, actual)
    ops += _fk_ops(desired, defer, existing=actual)
    ops += _fk_drops(desired, actual)
    return ops


def _foreign_key_index(ix: Index, table: Table) -> bool:
    """An index MySQL made for a foreign key that had none: named after the key (or, unnamed,
    its first column) and on exactly its columns. It belongs to the key (MySQL refuses to drop
    it on its own), so the diff neither drops it nor counts it as the table's."""
    return not ix.unique and any(
        ix.name in (fk.name, fk.columns[0]) and ix.columns == fk.columns for fk in table.foreign_keys
    )


def _index_drops(desired: Table, actual: Table) -> Iterator[Operation]:
    wanted = {_index_key(ix) for ix in desired.indexes}
    for ix in actual.indexes:
        if _foreign_key_index(ix, actual):
            continue
        if _index_key(ix) not in wanted and _index_key(replace(ix, definition=None)) not in wanted:
            yield _op(
                OpKind.DROP_INDEX,
                actual,
                Risk.LOSSY,
                "index not in the source; data kept, lookups may slow",
                f"index {ix.name}",
                index=ix,
            )


def _fk_drops(desired: Table, actual: Table) -> Iterator[Operation]:
    wanted = {_fk_key(fk) for fk in desired.foreign_keys}
    for fk in actual.foreign_keys:
        if _fk_key(fk) not in wanted:
            yield _drop_constraint(
                actual,
                fk.name,
                ConstraintType.FOREIGN_KEY,
                f"foreign key {fk.name} ({', '.join(fk.columns)})",
            )


def _op(kind: OpKind, table: Table, risk: Risk, reason: str, detail: str, **kw: object) -> Operation:
    rows = table.row_estimate if kind not in (OpKind.CREATE_INDEX, OpKind.ADD_FOREIGN_KEY) else 0
    return Operation(kind, table.schema, table.name, risk, reason, detail, affected_rows=rows, **kw)  # type: ignore[arg-type]


def _drop_constraint(table: Table, name: str | None, kind: ConstraintType, detail: str) -> Operation:
    return _op(
        OpKind.DROP_CONSTRAINT,
        table,
        Risk.LOSSY,
        "constraint not in the source; data kept, a guarantee is lost",
        detail,
        constraint_name=name,
        constraint_type=kind,
    )


def _column_ops(desired: Table, actual: Table) -> Iterator[Operation]:
    wanted = {c.name for c in desired.columns}
    for col in actual.columns:
        if col.name not in wanted:
            yield _op(
                OpKind.DROP_COLUMN,
                actual,
                Risk.DESTRUCTIVE,
                "column not in the source: its values are deleted",
                f"column {col.name} {col.type}",
                column=col,
            )
    for col in desired.columns:
        have = actual.column(col.name)
        if have is None:
            reason = "new column"
            if not col.nullable and col.default is None and not col.autoincrement and actual.row_estimate:
                reason = "new NOT NULL column without default: fails while the table has rows"
            yield _op(
                OpKind.ADD_COLUMN, actual, Risk.SAFE, reason, f"column {col.name} {col.type}", column=col
            )
            continue
        yield from _changed_column(actual, col, have)


def _changed_column(actual: Table, col: Column, have: Column) -> Iterator[Operation]:
    if col.type != have.type:
        change = classify(have.type, col.type)
        yield _op(
            OpKind.ALTER_TYPE,
            actual,
            change.risk,
            change.reason,
            f"column {col.name} {have.type} -> {col.type}",
            column=col,
            old_type=have.type,
        )
    if not col.autoincrement and not have.autoincrement:
        want, got = normalize_default(col.default), normalize_default(have.default)
        if want is None and got is not None:
            yield _op(
                OpKind.DROP_DEFAULT,
                actual,
                Risk.LOSSY,
                "dropping a default: inserts that omit the column get NULL",
                f"column {col.name} default {have.default}",
                column=col,
            )
        elif want is not None and want != got:
            yield _op(
                OpKind.SET_DEFAULT,
                actual,
                Risk.SAFE,
                "default changes for new rows only",
                f"column {col.name} default {col.default}",
                column=col,
            )
    if col.nullable and not have.nullable:
        yield _op(
            OpKind.DROP_NOT_NULL, actual, Risk.SAFE, "column accepts NULL", f"column {col.name}", column=col
        )
    elif not col.nullable and have.nullable:
        yield _op(
            OpKind.SET_NOT_NULL,
            actual,
            Risk.SAFE,
            "fails if existing rows hold NULL",
            f"column {col.name}",
            column=col,
        )


def _primary_key_ops(desired: Table, actual: Table) -> Iterator[Operation]:
    if desired.primary_key == actual.primary_key:
        return
    if actual.primary_key:
        yield _drop_constraint(
            actual,
            actual.primary_key_name,
            ConstraintType.PRIMARY_KEY,
            f"primary key ({', '.join(actual.primary_key)})",
        )
    if desired.primary_key:
        yield _op(
            OpKind.ADD_PRIMARY_KEY,
            actual,
            Risk.SAFE,
            "fails if existing rows hold duplicates",
            f"primary key ({', '.join(desired.primary_key)})",
            primary_key=desired.primary_key,
        )


def _unique_ops(desired: Table, actual: Table) -> Iterator[Operation]:
    """Unique constraints match by their columns (names differ across dialects)."""
    have = {u.columns for u in actual.unique_constraints}
    want = {u.columns for u in desired.unique_constraints}
    for u in desired.unique_constraints:
        if u.columns not in have:
            yield _op(
                OpKind.ADD_UNIQUE,
                actual,
                Risk.SAFE,
                "fails if existing rows hold duplicates",
                f"unique ({', '.join(u.columns)})",
                unique=u,
            )
    for u in actual.unique_constraints:
        if u.columns not in want:
            yield _drop_constraint(
                actual, u.name, ConstraintType.UNIQUE, f"unique {u.name} ({', '.join(u.columns)})"
            )


def _check_ops(desired: Table, actual: Table) -> Iterator[Operation]:
    """Check constraints match by name (their text is normalized differently by each engine)."""
    have = {c.name for c in actual.check_constraints}
    want = {c.name for c in desired.check_constraints}
    for c in desired.check_constraints:
        if c.name not in have:
            yield _op(
                OpKind.ADD_CHECK,
                actual,
                Risk.SAFE,
                "fails if existing rows violate it",
                f"check {c.name}: {c.expression}",
                check=c,
            )
    for c in actual.check_constraints:
        if c.name not in want:
            yield _drop_constraint(actual, c.name, ConstraintType.CHECK, f"check {c.name}: {c.expression}")
