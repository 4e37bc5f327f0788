"""Compaction of a batch per table and key, the covered-change filter, the applier's SQL and the
key operations kept before following: pure, no server."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ferry.cdc import apply_sql
from ferry.cdc.apply_sql import TargetTable
from ferry.cdc.change_rows import TargetChange
from ferry.cdc.changes import UNCHANGED, AppliedPosition, ChangeKind, Position, RowChange, SourceTransaction
from ferry.cdc.compaction import Compacted, Entry, Move, Op, Truncate, compact
from ferry.cdc.follower import FollowGap, uncovered
from ferry.cdc.prepare import key_operations
from ferry.schema import Index, Operation, OpKind, OpPhase, Risk, UniqueConstraint
from ferry.schema.mapping import ColumnMapping, TableMapping

U = UNCHANGED


def up(key: str, *row: object, old: str | None = None) -> TargetChange:
    full = (key, *row)
    old_key = None if old is None else (old,)
    return TargetChange(0, ChangeKind.UPDATE, (key,), full, old_key, U not in full)  # type: ignore[arg-type]


def ins(key: str, *row: object) -> TargetChange:
    return TargetChange(0, ChangeKind.INSERT, (key,), (key, *row), None, U not in row)  # type: ignore[arg-type]


def dele(key: str) -> TargetChange:
    return TargetChange(0, ChangeKind.DELETE, (key,))


def test_the_last_change_of_a_key_decides() -> None:
    steps = compact([ins("1", "a"), up("1", "b"), ins("2", "x"), dele("2"), dele("3"), ins("3", "c")])
    assert steps == {
        0: [
            Compacted(
                {
                    ("1",): Entry(Op.UPSERT, ("1", "b")),
                    ("2",): Entry(Op.DELETE),
                    ("3",): Entry(Op.UPSERT, ("3", "c")),
                }
            )
        ]
    }


def test_partial_updates_merge_into_what_came_before() -> None:
    steps = compact(
        [
            ins("1", "a", "toast"),
            up("1", "b", U),
            up("2", U, "t2"),
            up("2", "n", U),
            dele("4"),
            up("4", "z", U),
        ]
    )
    assert steps[0] == [
        Compacted(
            {
                ("1",): Entry(Op.UPSERT, ("1", "b", "toast")),  # still a full row
                ("2",): Entry(Op.PARTIAL, ("2", "n", "t2")),
                ("4",): Entry(Op.DELETE),  # an update after a delete finds no row
            }
        )
    ]


def test_key_updates_fold_unless_the_row_is_partial_and_unknown() -> None:
    steps = compact(
        [
            up("10", "a", "t", old="1"),
            ins("2", "b", "t2"),
            up("20", "c", U, old="2"),
            up("30", "d", U, old="3"),
        ]
    )
    assert steps[0] == [
        Compacted(
            {
                ("1",): Entry(Op.DELETE),
                ("10",): Entry(Op.UPSERT, ("10", "a", "t")),
                ("2",): Entry(Op.DELETE),
                ("20",): Entry(Op.UPSERT, ("20", "c", "t2")),  # merged with the full image of 2
            }
        ),
        Move(("3",), ("30", "d", U)),  # applied alone, after what came before
    ]
    assert compact([up("30", "d", U, old="3"), up("30", "e", U)])[0] == [
        Move(("3",), ("30", "d", U)),
        Compacted({("30",): Entry(Op.PARTIAL, ("30", "e", U))}),
    ]


def test_truncate_drops_what_came_before_in_its_table_only() -> None:
    other = TargetChange(1, ChangeKind.INSERT, ("9",), ("9",), None, True)
    steps = compact([ins("1", "a"), other, TargetChange(0, ChangeKind.TRUNCATE), ins("2", "b")])
    assert steps == {
        0: [Truncate(), Compacted({("2",): Entry(Op.UPSERT, ("2", "b"))})],
        1: [Compacted({("9",): Entry(Op.UPSERT, ("9",))})],
    }


def _txn(position: int, changes: int, first: int = 0, last: bool = True) -> SourceTransaction:
    rows = [RowChange(("s", "t"), ChangeKind.DELETE, old={"id": str(i)}) for i in range(changes)]
    return SourceTransaction(Position(position), datetime.now(UTC), rows, first, last)


def test_what_the_target_holds_already_is_dropped() -> None:
    applied = AppliedPosition(Position(20), 3, complete=False)
    kept = uncovered([_txn(10, 2), _txn(20, 5), _txn(30, 1)], applied)
    assert [(t.position.major, t.first_index, len(t.changes)) for t in kept] == [(20, 3, 2), (30, 0, 1)]
    assert uncovered([_txn(20, 3)], applied) == []
    with pytest.raises(FollowGap):
        uncovered([_txn(20, 2, first=4)], applied)


def test_statements_cast_each_array_to_the_column_type_without_its_modifier() -> None:
    table = TargetTable(
        '"s"."t"', ("id", "name", "tags"), ("pg_catalog.int4", "pg_catalog.varchar", "pg_catalog._text"), (0,)
    )
    assert apply_sql.upsert(table) == (
        'INSERT INTO "s"."t" AS t ("id", "name", "tags") OVERRIDING SYSTEM VALUE '
        "SELECT u.c0::pg_catalog.int4, u.c1::pg_catalog.varchar, u.c2::pg_catalog._text "
        "FROM unnest($1::text[], $2::text[], $3::text[]) AS u(c0, c1, c2) "
        'ON CONFLICT ("id") DO UPDATE SET "name" = EXCLUDED."name", "tags" = EXCLUDED."tags"'
    )
    assert apply_sql.delete(table) == (
        'DELETE FROM ONLY "s"."t" AS t USING unnest($1::text[]) AS u(k0) WHERE t."id" = u.k0::pg_catalog.int4'
    )
    assert apply_sql.update(table, (0, 2)) == (
        'UPDATE ONLY "s"."t" AS t SET "id" = u.c0::pg_catalog.int4, "tags" = u.c2::pg_catalog._text '
        "FROM unnest($1::text[], $2::text[], $3::text[]) AS u(k0, c0, c2) "
        'WHERE t."id" = u.k0::pg_catalog.int4'
    )
    keys_only = TargetTable('"t"', ("a", "b"), ("pg_catalog.int4", "pg_catalog.text"), (0, 1))
    assert apply_sql.upsert(keys_only).endswith('ON CONFLICT ("a", "b") DO NOTHING')


def test_only_the_followed_keys_are_built_before_following() -> None:
    columns = (
        ColumnMapping("ID", "id", "integer", "integer", False),
        ColumnMapping("mail", "email", "text", "text", False),
    )
    mapping = TableMapping("public", "t", "public", "t", columns, ("mail",))

    def op(kind: OpKind, **kw: object) -> Operation:
        return Operation(kind, "public", "t", Risk.SAFE, "", "", phase=OpPhase.POST_DATA, **kw)  # type: ignore[arg-type]

    unique = op(OpKind.ADD_UNIQUE, unique=UniqueConstraint("u", ("email",)))
    index = op(OpKind.CREATE_INDEX, index=Index("ix", ("email",), unique=True))
    ops = [
        op(OpKind.ADD_PRIMARY_KEY, primary_key=("id",)),  # not the followed key (the unique one is)
        unique,
        index,
        op(OpKind.CREATE_INDEX, index=Index("partial", ("email",), unique=True, where="id > 0")),
        op(OpKind.CREATE_INDEX, index=Index("plain", ("email",))),
        op(OpKind.ADD_FOREIGN_KEY),
    ]
    assert key_operations(ops, [mapping]) == [unique, index]
